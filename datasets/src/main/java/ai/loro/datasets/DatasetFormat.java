package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Record layouts of instruction-tuning data sets, each turned into a {@link Sample}:
 *
 * <ul>
 *   <li>{@code alpaca}: instruction, input (optional), output. The conversation is [user:
 *       instruction, input: input (when non-empty), assistant: output]; the builtin "alpaca"
 *       template renders the exact Stanford Alpaca prompts, other templates get
 *       "instruction\n\ninput" as the user message ({@link Conversation#withInputsMerged()}).
 *   <li>{@code openorca}: system_prompt (optional), question, response.
 *   <li>{@code sharegpt}: conversations [{from, value}] with from human/user, gpt/assistant or
 *       system; an optional top-level "system" string comes first.
 *   <li>{@code messages}: messages [{role, content}] with role system, user or assistant.
 *   <li>{@code completion}: text; plain text, loss on every token.
 * </ul>
 *
 * Missing, empty or mistyped fields throw a {@link LoroException} naming the row's file:line and
 * the field. List fields given as a JSON string (e.g. in a CSV cell) are parsed.
 */
public enum DatasetFormat {
    ALPACA, OPENORCA, SHAREGPT, MESSAGES, COMPLETION;

    /** The name used in configs and on the command line (lower case). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DatasetFormat of(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
            switch (n) {
                case "alpaca": return ALPACA;
                case "openorca", "open_orca", "orca": return OPENORCA;
                case "sharegpt": return SHAREGPT;
                case "messages", "chat", "openai": return MESSAGES;
                case "completion", "text": return COMPLETION;
                default: break;
            }
        }
        throw new LoroException("data set type '" + name + "' is not known; allowed: "
                + Arrays.stream(values()).map(DatasetFormat::id).collect(Collectors.joining(", ")));
    }

    /** Parses one row. */
    public Sample parse(Row row) {
        return switch (this) {
            case ALPACA -> alpaca(row);
            case OPENORCA -> openOrca(row);
            case SHAREGPT -> shareGpt(row);
            case MESSAGES -> messages(row);
            case COMPLETION -> new PlainText(string(row, row.data(), "text", "", true), row.where());
        };
    }

    /** Parses rows; bad ones throw or are skipped and counted by {@code bad}. */
    public List<Sample> parseAll(List<Row> rows, BadRows bad) {
        List<Sample> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            try {
                out.add(parse(r));
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
        return out;
    }

    private static Sample alpaca(Row row) {
        String instruction = string(row, row.data(), "instruction", "", true);
        String input = optionalString(row, row.data(), "input", "");
        String output = string(row, row.data(), "output", "", true);
        List<ChatMessage> m = new ArrayList<>();
        m.add(ChatMessage.user(instruction));
        if (input != null && !input.isEmpty()) {
            m.add(new ChatMessage(Conversation.INPUT_ROLE, input));
        }
        m.add(ChatMessage.assistant(output));
        return new Conversation(m, row.where());
    }

    private static Sample openOrca(Row row) {
        String system = optionalString(row, row.data(), "system_prompt", "");
        List<ChatMessage> m = new ArrayList<>();
        if (system != null && !system.isEmpty()) {
            m.add(ChatMessage.system(system));
        }
        m.add(ChatMessage.user(string(row, row.data(), "question", "", true)));
        m.add(ChatMessage.assistant(string(row, row.data(), "response", "", true)));
        return new Conversation(m, row.where());
    }

    private static Sample shareGpt(Row row) {
        JsonNode turns = list(row, "conversations");
        List<ChatMessage> m = new ArrayList<>();
        String system = optionalString(row, row.data(), "system", "");
        if (system != null && !system.isEmpty()) {
            m.add(ChatMessage.system(system));
        }
        for (int i = 0; i < turns.size(); i++) {
            JsonNode t = turns.get(i);
            String at = "conversations[" + i + "].";
            if (!t.isObject()) {
                throw new LoroException(row.where() + ": '" + at.substring(0, at.length() - 1)
                        + "' must be an object {\"from\", \"value\"}, got " + type(t));
            }
            String from = string(row, t, "from", at, true);
            String role = switch (from.toLowerCase(Locale.ROOT)) {
                case "human", "user" -> "user";
                case "gpt", "assistant", "chatgpt", "bard", "bing", "model" -> "assistant";
                case "system" -> "system";
                default -> throw new LoroException(row.where() + ": '" + at + "from' is '" + from
                        + "'; allowed: human, gpt, system (also user, assistant)");
            };
            m.add(new ChatMessage(role, string(row, t, "value", at, !role.equals("system"))));
        }
        return new Conversation(m, row.where());
    }

    private static Sample messages(Row row) {
        JsonNode msgs = list(row, "messages");
        List<ChatMessage> m = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode t = msgs.get(i);
            String at = "messages[" + i + "].";
            if (!t.isObject()) {
                throw new LoroException(row.where() + ": '" + at.substring(0, at.length() - 1)
                        + "' must be an object {\"role\", \"content\"}, got " + type(t));
            }
            String role = string(row, t, "role", at, true);
            if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
                throw new LoroException(row.where() + ": '" + at + "role' is '" + role
                        + "'; allowed: system, user, assistant");
            }
            m.add(new ChatMessage(role, string(row, t, "content", at, !role.equals("system"))));
        }
        return new Conversation(m, row.where());
    }

    private static JsonNode list(Row row, String field) {
        JsonNode v = row.data().get(field);
        if (v == null || v.isNull()) {
            throw new LoroException(row.where() + ": field '" + field + "' is missing");
        }
        if (v.isTextual()) {
            try {
                v = DatasetReader.JSON.readTree(v.asText());
            } catch (JsonProcessingException e) {
                throw new LoroException(row.where() + ": field '" + field + "' is a string that is not a JSON list: "
                        + LoroException.oneLine(e.getOriginalMessage(), 200));
            }
        }
        if (v == null || !v.isArray()) {
            throw new LoroException(row.where() + ": field '" + field + "' must be a list, got " + type(v));
        }
        if (v.isEmpty()) {
            throw new LoroException(row.where() + ": field '" + field + "' is empty");
        }
        return v;
    }

    static String string(Row row, JsonNode obj, String field, String prefix, boolean nonEmpty) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            throw new LoroException(row.where() + ": field '" + prefix + field + "' is missing");
        }
        if (!v.isTextual()) {
            throw new LoroException(row.where() + ": field '" + prefix + field + "' must be a string, got " + type(v));
        }
        if (nonEmpty && v.asText().isEmpty()) {
            throw new LoroException(row.where() + ": field '" + prefix + field + "' is empty");
        }
        return v.asText();
    }

    private static String optionalString(Row row, JsonNode obj, String field, String prefix) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new LoroException(row.where() + ": field '" + prefix + field + "' must be a string, got " + type(v));
        }
        return v.asText();
    }

    private static String type(JsonNode v) {
        return v == null ? "nothing" : v.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
