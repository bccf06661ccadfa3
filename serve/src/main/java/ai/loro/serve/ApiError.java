package ai.loro.serve;

/**
 * A request the server refuses, answered as an OpenAI error body
 * {@code {"error": {"message", "type", "param", "code"}}} with {@code code} = the HTTP status, as vLLM does.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;

    public ApiError(int status, String type, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    /** 400 for one field: the message names the field and what is allowed. */
    public static ApiError badField(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, message);
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, "invalid_request_error", null, message);
    }

    public static ApiError notFound(String param, String message) {
        return new ApiError(404, "NotFoundError", param, message);
    }

    public static ApiError unknownModel(String model) {
        return notFound("model", "The model `" + model + "` does not exist.");
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }
}
