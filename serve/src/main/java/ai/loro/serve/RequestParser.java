package ai.loro.serve;

import ai.loro.core.LoroException;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.lora.LoraAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns a chat or completions request body into validated {@link GenRequest}s, with the OpenAI / vLLM field
 * semantics (docs/serving.md, "The HTTP API"). Fields it does not know are ignored, as vLLM ignores them; known
 * fields it cannot honour (tools, logit_bias, penalties, ...) are refused unless given their no-op value.
 */
final class RequestParser {
    /** The parsed request: one {@link GenRequest} per prompt, and how to answer. */
    record Parsed(String model, List<GenRequest> prompts, boolean stream, boolean includeUsage, boolean chat,
                  boolean tokenIds) {}

    static final int MAX_N = 16;
    static final int MAX_STOP = 16;

    private final LoroTokenizer tokenizer;
    private final Function<String, LoraAdapter> adapters; // model id → adapter (null = base); throws 404
    private final Set<Long> eosIds;
    private final Set<Long> chatStopIds;
    private final GenerationConfig gen;
    private final int maxModelLen;
    private final int maxBatch;
    private final int vocab;

    RequestParser(LoroTokenizer tokenizer, Function<String, LoraAdapter> adapters, Set<Long> eosIds, Set<Long> chatStopIds,
                  GenerationConfig gen, int maxModelLen, int maxBatch, int vocab) {
        this.tokenizer = tokenizer;
        this.adapters = adapters;
        this.eosIds = eosIds;
        this.chatStopIds = chatStopIds;
        this.gen = gen;
        this.maxModelLen = maxModelLen;
        this.maxBatch = maxBatch;
        this.vocab = vocab;
    }

    Parsed chat(JsonNode body, String baseId) {
        Fields f = fields(body);
        String model = f.string("model", baseId);
        LoraAdapter adapter = adapters.apply(model);
        List<ChatMessage> messages = messages(f.get("messages"));
        String rendered;
        try {
            rendered = tokenizer.applyChatTemplate(messages, true);
        } catch (LoroException e) {
            throw ApiError.badField("messages", "the chat template could not render 'messages': "
                    + LoroException.oneLine(e.getMessage()));
        }
        long[] prompt = tokenizer.encode(rendered, false); // the template writes BOS where the model wants one
        Long maxTokens = f.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
        String maxName = "max_completion_tokens";
        if (maxTokens == null) {
            maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
            maxName = "max_tokens";
        }
        boolean logprobs = f.bool("logprobs", false);
        Long top = f.integer("top_logprobs", 0, 20);
        if (top != null && top > 0 && !logprobs) {
            throw ApiError.badField("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        f.onlyDefault("tools", n -> n.isArray() && n.isEmpty(), "absent (no tool calling)");
        f.onlyDefault("tool_choice", n -> n.isTextual() && n.asText().equals("none"), "absent or \"none\"");
        f.onlyDefault("response_format", n -> n.path("type").asText().equals("text"), "absent or {\"type\": \"text\"}");
        Set<Long> stopIds = new LinkedHashSet<>(eosIds);
        stopIds.addAll(chatStopIds);
        GenRequest r = common(f, model, adapter, prompt, maxTokens, maxName, stopIds, logprobs, top == null ? 0 : top.intValue());
        return new Parsed(model, List.of(r), stream(f), includeUsage(f), true, f.bool("return_tokens_as_token_ids", false));
    }

    Parsed completion(JsonNode body, String baseId) {
        Fields f = fields(body);
        String model = f.string("model", baseId);
        LoraAdapter adapter = adapters.apply(model);
        List<long[]> prompts = prompts(f.get("prompt"));
        Long maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        Long lp = f.integer("logprobs", 0, 20);
        f.onlyDefault("echo", n -> n.isBoolean() && !n.asBoolean(), "false");
        f.onlyDefault("suffix", n -> false, "absent");
        Long bestOf = f.integer("best_of", 1, MAX_N);
        List<GenRequest> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            GenRequest r = common(f, model, adapter, prompts.get(i), maxTokens, "max_tokens", new LinkedHashSet<>(eosIds),
                    lp != null, lp == null ? 0 : lp.intValue());
            if (bestOf != null && bestOf != r.n()) {
                throw ApiError.badField("best_of", "'best_of' must equal 'n' (" + r.n() + "): choices are not re-ranked");
            }
            out.add(r);
        }
        return new Parsed(model, out, stream(f), includeUsage(f), false, f.bool("return_tokens_as_token_ids", false));
    }

    private Fields fields(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiError.badRequest("the request body must be a JSON object");
        }
        return new Fields(body);
    }

    private GenRequest common(Fields f, String model, LoraAdapter adapter, long[] prompt, Long maxTokens, String maxName,
                              Set<Long> stopIds, boolean logprobs, int top) {
        if (prompt.length == 0) {
            throw ApiError.badField("prompt", "the prompt is empty: it must have at least one token");
        }
        if (prompt.length >= maxModelLen) {
            throw ApiError.badField(maxName.equals("max_tokens") && !f.has("messages") ? "prompt" : "messages",
                    "This model's maximum context length is " + maxModelLen + " tokens; the prompt has " + prompt.length
                            + " tokens, leaving no room for a completion.");
        }
        int max = maxTokens == null ? maxModelLen - prompt.length : (int) (long) maxTokens;
        if (prompt.length + (long) max > maxModelLen) {
            throw ApiError.badField(maxName, "This model's maximum context length is " + maxModelLen + " tokens. However,"
                    + " you requested " + (prompt.length + (long) max) + " tokens (" + prompt.length + " in the prompt, "
                    + max + " in the completion); lower '" + maxName + "' to at most " + (maxModelLen - prompt.length) + ".");
        }
        Double temperature = f.number("temperature", 0, 2);
        Double topP = f.number("top_p", Double.MIN_VALUE, 1);
        if (f.has("top_p") && topP == 0) {
            throw ApiError.badField("top_p", "'top_p' must be a number in (0, 1], got 0");
        }
        Long topK = f.integer("top_k", -1, Integer.MAX_VALUE);
        if (temperature == null) {
            temperature = gen != null && Boolean.FALSE.equals(gen.doSample()) ? 0.0
                    : gen != null && gen.temperature() != null ? gen.temperature() : 1.0;
        }
        if (topP == null) {
            topP = gen != null && gen.topP() != null ? gen.topP() : 1.0;
        }
        int k = topK == null ? (gen != null && gen.topK() != null ? gen.topK() : 0) : (int) Math.max(0, topK);
        Long n = f.integer("n", 1, Math.min(MAX_N, maxBatch));
        Long seed = f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = f.stop("stop", MAX_STOP);
        if (f.bool("ignore_eos", false)) {
            stopIds = Set.of();
        }
        f.onlyDefault("logit_bias", n2 -> n2.isObject() && n2.isEmpty(), "absent or {}");
        f.onlyDefault("presence_penalty", n2 -> n2.isNumber() && n2.asDouble() == 0, "0");
        f.onlyDefault("frequency_penalty", n2 -> n2.isNumber() && n2.asDouble() == 0, "0");
        f.onlyDefault("repetition_penalty", n2 -> n2.isNumber() && n2.asDouble() == 1, "1");
        f.string("user", null);
        return new GenRequest(model, adapter, prompt, max, temperature, k, topP,
                seed != null ? seed : java.util.concurrent.ThreadLocalRandom.current().nextLong(), stop, Set.copyOf(stopIds),
                n == null ? 1 : (int) (long) n, logprobs, top);
    }

    private boolean stream(Fields f) {
        boolean stream = f.bool("stream", false);
        JsonNode opts = f.get("stream_options");
        if (opts != null) {
            if (!stream) {
                throw ApiError.badField("stream_options", "'stream_options' is allowed only with 'stream': true");
            }
            if (!opts.isObject()) {
                throw ApiError.badField("stream_options", "'stream_options' must be an object such as {\"include_usage\": true}");
            }
        }
        return stream;
    }

    private boolean includeUsage(Fields f) {
        JsonNode opts = f.get("stream_options");
        if (opts == null) {
            return false;
        }
        JsonNode u = opts.get("include_usage");
        if (u != null && !u.isNull() && !u.isBoolean()) {
            throw ApiError.badField("stream_options", "'stream_options.include_usage' must be true or false");
        }
        return u != null && u.asBoolean();
    }

    private List<ChatMessage> messages(JsonNode n) {
        if (n == null) {
            throw ApiError.badField("messages", "'messages' is required: a non-empty list of {\"role\", \"content\"}");
        }
        if (!n.isArray() || n.isEmpty()) {
            throw ApiError.badField("messages", "'messages' must be a non-empty list of {\"role\", \"content\"}, got "
                    + (n.isArray() ? "an empty list" : Fields.kind(n)));
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode m = n.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiError.badField(where, "'" + where + "' must be an object {\"role\", \"content\"}");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()
                    || !List.of("system", "developer", "user", "assistant", "tool").contains(role.asText())) {
                throw ApiError.badField(where + ".role", "'" + where + ".role' must be one of system, developer, user,"
                        + " assistant, tool");
            }
            String r = role.asText().equals("developer") ? "system" : role.asText();
            out.add(new ChatMessage(r, content(m.get("content"), where + ".content")));
        }
        return out;
    }

    /** A string, or a list of {"type": "text", "text"} parts joined. */
    private static String content(JsonNode c, String where) {
        String allowed = "'" + where + "' must be a string or a list of {\"type\": \"text\", \"text\": ...} parts";
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (!c.isArray()) {
            throw ApiError.badField(where, allowed + ", got " + Fields.kind(c));
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            if (!part.isObject() || !part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                throw ApiError.badField(where, allowed + " (only text parts are supported)");
            }
            sb.append(part.get("text").asText());
        }
        return sb.toString();
    }

    /** {@code prompt}: a string, a list of strings, a list of token ids, or a list of lists of token ids. */
    private List<long[]> prompts(JsonNode n) {
        String allowed = "'prompt' must be a string, a list of strings, a list of token ids or a list of lists of token ids";
        if (n == null) {
            throw ApiError.badField("prompt", "'prompt' is required: " + allowed.substring("'prompt' must be ".length()));
        }
        List<long[]> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(tokenizer.encode(n.asText(), true));
        } else if (n.isArray() && !n.isEmpty() && n.get(0).isIntegralNumber()) {
            out.add(ids(n, "prompt"));
        } else if (n.isArray() && !n.isEmpty()) {
            for (int i = 0; i < n.size(); i++) {
                JsonNode p = n.get(i);
                if (p.isTextual()) {
                    out.add(tokenizer.encode(p.asText(), true));
                } else if (p.isArray()) {
                    out.add(ids(p, "prompt[" + i + "]"));
                } else {
                    throw ApiError.badField("prompt", allowed + "; prompt[" + i + "] is " + Fields.kind(p));
                }
            }
        } else {
            throw ApiError.badField("prompt", allowed + ", got " + (n.isArray() ? "an empty list" : Fields.kind(n)));
        }
        if (out.size() > MAX_N) {
            throw ApiError.badField("prompt", "at most " + MAX_N + " prompts per request, got " + out.size());
        }
        return out;
    }

    private long[] ids(JsonNode list, String where) {
        long[] ids = new long[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = list.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= vocab) {
                throw ApiError.badField("prompt", "'" + where + "' token ids must be integers in 0.." + (vocab - 1) + ", got "
                        + Fields.kind(t) + " at position " + i);
            }
            ids[i] = t.asLong();
        }
        return ids;
    }
}
