package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Record layouts of preference data sets, each turned into {@link PreferencePair}s:
 *
 * <ul>
 *   <li>{@code preference} (TRL): explicit {prompt, chosen, rejected}, all strings (prompt = one user
 *       message, chosen/rejected = one assistant message each) or all message lists [{role, content}]
 *       (chosen/rejected may repeat the prompt messages first; they are then removed); or implicit
 *       {chosen, rejected} holding the whole conversation, the prompt being their longest common
 *       prefix as TRL's extract_prompt takes it: per message for lists; per character for strings,
 *       moved back one character when the character before the split is a space (the space stays with
 *       the responses). Optional numeric "margin".
 *   <li>{@code hh-rlhf} (Anthropic): chosen/rejected transcripts "\n\nHuman: ...\n\nAssistant: ...". As
 *       TRL's hh-rlhf script: the common prefix is cut back to its last "\n\nAssistant:", the rest of
 *       each transcript (one leading space removed) is the response, and the prompt is split at every
 *       "\n\nHuman:" / "\n\nAssistant:" into user/assistant messages.
 *   <li>{@code oasst} (OpenAssistant oasst1): flat message rows or tree-export rows; see {@link
 *       OasstTrees}. Flat rows need the whole file: use {@link #parseAll}.
 *   <li>{@code math-step-dpo} (Step-DPO): prompt, initial_reason_steps, chosen, rejected (the next
 *       reasoning step). Prompt = [user: prompt]; each response = initial_reason_steps + the step,
 *       concatenated as Step-DPO does (initial_reason_steps carries its own line breaks; nothing is
 *       inserted, so an empty initial_reason_steps gives just the step).
 *   <li>{@code ultrafeedback} (binarized): chosen/rejected message lists sharing the prompt messages;
 *       optional score_chosen/score_rejected give margin = score_chosen - score_rejected.
 * </ul>
 *
 * A missing or mistyped field, an empty response, identical chosen and rejected, and a pair with no
 * common prompt throw a {@link LoroException} naming the row's file:line and the field; {@link
 * #parseAll} can skip and count such rows instead. List fields given as a JSON string (e.g. in a CSV
 * cell) are parsed.
 */
public enum PreferenceFormat {
    PREFERENCE, HH_RLHF, OASST, MATH_STEP_DPO, ULTRAFEEDBACK;

    /** The name used in configs and on the command line: preference, hh-rlhf, oasst, math-step-dpo, ultrafeedback. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static PreferenceFormat of(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            switch (n) {
                case "preference", "trl", "dpo": return PREFERENCE;
                case "hh-rlhf", "hh", "anthropic-hh": return HH_RLHF;
                case "oasst", "oasst1", "oasst2", "openassistant": return OASST;
                case "math-step-dpo", "step-dpo": return MATH_STEP_DPO;
                case "ultrafeedback", "ultrafeedback-binarized": return ULTRAFEEDBACK;
                default: break;
            }
        }
        throw new LoroException("preference data set type '" + name + "' is not known; allowed: "
                + Arrays.stream(values()).map(PreferenceFormat::id).collect(Collectors.joining(", ")));
    }

    /**
     * Parses one row: one pair for every format but oasst, whose tree-export rows give all the pairs of
     * their tree; an oasst flat message row throws (its tree spans many rows: use {@link #parseAll}).
     */
    public List<PreferencePair> parse(Row row) {
        return switch (this) {
            case PREFERENCE -> List.of(trl(row));
            case HH_RLHF -> List.of(hhRlhf(row));
            case MATH_STEP_DPO -> List.of(mathStepDpo(row));
            case ULTRAFEEDBACK -> List.of(ultraFeedback(row));
            case OASST -> {
                if (!OasstTrees.isTreeRow(row)) {
                    throw new LoroException(row.where() + ": an oasst message row is one node of a tree spread over"
                            + " the file; read the whole file (PreferenceFormat.parseAll)");
                }
                yield OasstTrees.pairs(List.of(row), BadRows.failFast());
            }
        };
    }

    /** Parses rows; bad ones throw or are skipped and counted by {@code bad}. */
    public List<PreferencePair> parseAll(List<Row> rows, BadRows bad) {
        if (this == OASST) {
            return OasstTrees.pairs(rows, bad);
        }
        List<PreferencePair> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            try {
                out.addAll(parse(r));
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
        return out;
    }

    // ---- TRL preference -------------------------------------------------------------------------

    private static PreferencePair trl(Row row) {
        JsonNode d = row.data();
        Double margin = optionalNumber(row, d, "margin");
        JsonNode c = listInString(required(row, d, "chosen"));
        JsonNode r = listInString(required(row, d, "rejected"));
        JsonNode p = listInString(d.get("prompt"));
        if (p != null && !p.isNull()) {
            if (p.isTextual() && c.isTextual() && r.isTextual()) {
                String prompt = DatasetFormat.string(row, d, "prompt", "", true);
                String chosen = nonEmptyResponse(row, c.asText(), "chosen");
                String rejected = nonEmptyResponse(row, r.asText(), "rejected");
                return pair(row, List.of(ChatMessage.user(prompt)), List.of(ChatMessage.assistant(chosen)),
                        List.of(ChatMessage.assistant(rejected)), margin);
            }
            List<ChatMessage> prompt = messages(row, d, "prompt");
            List<ChatMessage> chosen = messages(row, d, "chosen");
            List<ChatMessage> rejected = messages(row, d, "rejected");
            return pair(row, prompt, response(row, prompt, chosen, "chosen"), response(row, prompt, rejected, "rejected"),
                    margin);
        }
        if (c.isTextual() && r.isTextual()) {
            String chosen = c.asText();
            String rejected = r.asText();
            nonEmptyResponse(row, chosen, "chosen");
            nonEmptyResponse(row, rejected, "rejected");
            identical(row, chosen.equals(rejected));
            int idx = commonPrefix(chosen, rejected);
            if (idx == chosen.length() || idx == rejected.length()) {
                String shorter = idx == chosen.length() ? "chosen" : "rejected";
                throw new LoroException(row.where() + ": field '" + shorter + "' is an empty response: it is a prefix"
                        + " of the other transcript, so nothing is left after their common prompt");
            }
            if (idx > 0 && chosen.charAt(idx - 1) == ' ') {
                idx--;
            }
            if (idx == 0) {
                throw promptMismatch(row);
            }
            return pair(row, List.of(ChatMessage.user(chosen.substring(0, idx))),
                    List.of(ChatMessage.assistant(chosen.substring(idx))),
                    List.of(ChatMessage.assistant(rejected.substring(idx))), margin);
        }
        return implicitMessages(row, margin);
    }

    /** Implicit message lists: prompt = the longest common message prefix. */
    private static PreferencePair implicitMessages(Row row, Double margin) {
        List<ChatMessage> chosen = messages(row, row.data(), "chosen");
        List<ChatMessage> rejected = messages(row, row.data(), "rejected");
        identical(row, chosen.equals(rejected));
        int n = 0;
        while (n < Math.min(chosen.size(), rejected.size()) && chosen.get(n).equals(rejected.get(n))) {
            n++;
        }
        if (n == 0) {
            throw promptMismatch(row);
        }
        for (String f : List.of("chosen", "rejected")) {
            List<ChatMessage> all = f.equals("chosen") ? chosen : rejected;
            if (all.size() == n) {
                throw new LoroException(row.where() + ": field '" + f + "' is an empty response: all its messages are"
                        + " the common prompt");
            }
        }
        return pair(row, chosen.subList(0, n), chosen.subList(n, chosen.size()), rejected.subList(n, rejected.size()),
                margin);
    }

    /**
     * Explicit message form: the response messages; a copy of the prompt at the start is removed, and
     * user/system messages before the first assistant message are a prompt mismatch.
     */
    private static List<ChatMessage> response(Row row, List<ChatMessage> prompt, List<ChatMessage> msgs, String field) {
        List<ChatMessage> r = msgs;
        if (msgs.size() > prompt.size() && msgs.subList(0, prompt.size()).equals(prompt)) {
            r = msgs.subList(prompt.size(), msgs.size());
        }
        if (!r.get(0).role().equals("assistant")) {
            throw new LoroException(row.where() + ": prompt mismatch: field '" + field + "' starts with a "
                    + r.get(0).role() + " message that is not in 'prompt'; with a 'prompt' field, '" + field
                    + "' must hold only the response (assistant messages), or repeat 'prompt' exactly first");
        }
        return r;
    }

    // ---- Anthropic hh-rlhf ----------------------------------------------------------------------

    private static final String ASSISTANT = "\n\nAssistant:";
    private static final Pattern TURN = Pattern.compile("(?:^|\n\n)(Human|Assistant):");

    private static PreferencePair hhRlhf(Row row) {
        String chosen = DatasetFormat.string(row, row.data(), "chosen", "", true);
        String rejected = DatasetFormat.string(row, row.data(), "rejected", "", true);
        identical(row, chosen.equals(rejected));
        String common = chosen.substring(0, commonPrefix(chosen, rejected));
        int cut = common.lastIndexOf(ASSISTANT);
        if (cut < 0) {
            throw new LoroException(row.where() + ": prompt mismatch: the common start of 'chosen' and 'rejected' has"
                    + " no \"\\n\\nAssistant:\"; hh-rlhf transcripts are \"\\n\\nHuman: ...\\n\\nAssistant: ...\" and"
                    + " differ only in the final assistant turn");
        }
        String chosenResponse = stripOneSpace(chosen.substring(cut + ASSISTANT.length()));
        String rejectedResponse = stripOneSpace(rejected.substring(cut + ASSISTANT.length()));
        nonEmptyResponse(row, chosenResponse, "chosen");
        nonEmptyResponse(row, rejectedResponse, "rejected");
        List<ChatMessage> prompt = hhMessages(row, chosen.substring(0, cut));
        return pair(row, prompt, List.of(ChatMessage.assistant(chosenResponse)),
                List.of(ChatMessage.assistant(rejectedResponse)), null);
    }

    /** Splits "\n\nHuman: a\n\nAssistant: b..." into user/assistant messages (TRL's hh-rlhf script). */
    static List<ChatMessage> hhMessages(Row row, String text) {
        Matcher m = TURN.matcher(text);
        List<ChatMessage> out = new ArrayList<>();
        String role = null;
        int start = 0;
        while (m.find()) {
            if (role == null) {
                if (!text.substring(0, m.start()).isBlank()) {
                    throw new LoroException(row.where() + ": field 'chosen' does not start with \"\\n\\nHuman:\"");
                }
            } else {
                out.add(new ChatMessage(role, text.substring(start, m.start())));
            }
            role = m.group(1).equals("Human") ? "user" : "assistant";
            start = m.end() < text.length() && text.charAt(m.end()) == ' ' ? m.end() + 1 : m.end();
        }
        if (role == null) {
            throw new LoroException(row.where() + ": field 'chosen' has no \"\\n\\nHuman:\" turn before the final"
                    + " \"\\n\\nAssistant:\"");
        }
        out.add(new ChatMessage(role, text.substring(start)));
        return out;
    }

    private static String stripOneSpace(String s) {
        return s.startsWith(" ") ? s.substring(1) : s;
    }

    // ---- Math-Step-DPO --------------------------------------------------------------------------

    private static PreferencePair mathStepDpo(Row row) {
        JsonNode d = row.data();
        String prompt = DatasetFormat.string(row, d, "prompt", "", true);
        JsonNode init = d.get("initial_reason_steps");
        String steps = init == null || init.isNull() ? "" : DatasetFormat.string(row, d, "initial_reason_steps", "", false);
        String chosen = nonEmptyResponse(row, DatasetFormat.string(row, d, "chosen", "", false), "chosen");
        String rejected = nonEmptyResponse(row, DatasetFormat.string(row, d, "rejected", "", false), "rejected");
        identical(row, chosen.equals(rejected));
        return pair(row, List.of(ChatMessage.user(prompt)), List.of(ChatMessage.assistant(steps + chosen)),
                List.of(ChatMessage.assistant(steps + rejected)), null);
    }

    // ---- UltraFeedback --------------------------------------------------------------------------

    private static PreferencePair ultraFeedback(Row row) {
        JsonNode d = row.data();
        Double sc = optionalNumber(row, d, "score_chosen");
        Double sr = optionalNumber(row, d, "score_rejected");
        Double margin = sc != null && sr != null ? sc - sr : null;
        return implicitMessages(row, margin);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static PreferencePair pair(Row row, List<ChatMessage> prompt, List<ChatMessage> chosen,
            List<ChatMessage> rejected, Double margin) {
        return new PreferencePair(prompt, chosen, rejected, margin, row.where());
    }

    private static void identical(Row row, boolean same) {
        if (same) {
            throw new LoroException(row.where() + ": fields 'chosen' and 'rejected' are identical; a preference pair"
                    + " needs two different responses");
        }
    }

    private static LoroException promptMismatch(Row row) {
        return new LoroException(row.where() + ": prompt mismatch: 'chosen' and 'rejected' have no common prompt"
                + " (implicit form: both must start with the same prompt); give the prompt in a 'prompt' field");
    }

    private static String nonEmptyResponse(Row row, String s, String field) {
        if (s.isBlank()) {
            throw new LoroException(row.where() + ": field '" + field + "' is an empty response");
        }
        return s;
    }

    static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    /** A string holding a JSON list of objects (e.g. a CSV cell) as that list; anything else as it is. */
    private static JsonNode listInString(JsonNode v) {
        if (v != null && v.isTextual() && v.asText().stripLeading().startsWith("[")) {
            try {
                JsonNode parsed = DatasetReader.JSON.readTree(v.asText());
                if (parsed != null && parsed.isArray() && !parsed.isEmpty() && parsed.get(0).isObject()) {
                    return parsed;
                }
            } catch (JsonProcessingException e) {
                // a plain string
            }
        }
        return v;
    }

    private static JsonNode required(Row row, JsonNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            throw new LoroException(row.where() + ": field '" + field + "' is missing");
        }
        return v;
    }

    static Double optionalNumber(Row row, JsonNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isTextual()) {
            try {
                return Double.parseDouble(v.asText().trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new LoroException(row.where() + ": field '" + field + "' must be a number, got " + type(v));
    }

    /** A message list field [{role, content}] (or a JSON string holding one). */
    static List<ChatMessage> messages(Row row, JsonNode obj, String field) {
        JsonNode v = required(row, obj, field);
        if (v.isTextual()) {
            try {
                v = DatasetReader.JSON.readTree(v.asText());
            } catch (JsonProcessingException e) {
                throw new LoroException(row.where() + ": field '" + field + "' must be a list of messages"
                        + " (or, in this form, all of prompt/chosen/rejected strings); got a string that is not a"
                        + " JSON list");
            }
        }
        if (v == null || !v.isArray()) {
            throw new LoroException(row.where() + ": field '" + field + "' must be a list of messages, got " + type(v));
        }
        if (v.isEmpty()) {
            throw new LoroException(row.where() + ": field '" + field + "' is empty");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode t = v.get(i);
            String at = field + "[" + i + "].";
            if (!t.isObject()) {
                throw new LoroException(row.where() + ": '" + field + "[" + i
                        + "]' must be an object {\"role\", \"content\"}, got " + type(t));
            }
            String role = DatasetFormat.string(row, t, "role", at, true);
            if (!PreferencePair.ROLES.contains(role)) {
                throw new LoroException(row.where() + ": '" + at + "role' is '" + role
                        + "'; allowed: system, user, assistant");
            }
            out.add(new ChatMessage(role, DatasetFormat.string(row, t, "content", at, false)));
        }
        return out;
    }

    static String type(JsonNode v) {
        return v == null ? "nothing" : v.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
