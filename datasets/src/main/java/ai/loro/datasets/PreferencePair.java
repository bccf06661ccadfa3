package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.util.List;
import java.util.Set;

/**
 * One preference example: a prompt shared by a preferred ({@code chosen}) and a dispreferred
 * ({@code rejected}) response. {@code prompt} is the conversation up to the response (system, user
 * and earlier assistant messages; never empty); {@code chosen} and {@code rejected} are the response
 * message(s) after it, ending with an assistant message with non-empty content (usually exactly one
 * assistant message). {@code margin} is an optional preference strength (e.g. score_chosen -
 * score_rejected), null when the data set has none; {@code source} says where the pair came from
 * (file:line).
 */
public record PreferencePair(List<ChatMessage> prompt, List<ChatMessage> chosen, List<ChatMessage> rejected,
        Double margin, String source) {
    static final Set<String> ROLES = Set.of("system", "user", "assistant");

    public PreferencePair {
        check(prompt, "prompt", source);
        check(chosen, "chosen", source);
        check(rejected, "rejected", source);
        for (String f : List.of("chosen", "rejected")) {
            List<ChatMessage> r = f.equals("chosen") ? chosen : rejected;
            ChatMessage last = r.get(r.size() - 1);
            if (!last.role().equals("assistant")) {
                throw new LoroException(source + ": field '" + f + "' must end with an assistant message, got role '"
                        + last.role() + "'");
            }
            if (last.content().isBlank()) {
                throw new LoroException(source + ": field '" + f + "' is an empty response");
            }
        }
        if (chosen.equals(rejected)) {
            throw new LoroException(source + ": fields 'chosen' and 'rejected' are identical; a preference pair needs"
                    + " two different responses");
        }
        if (margin != null && (margin.isNaN() || margin.isInfinite())) {
            throw new LoroException(source + ": margin must be a finite number, got " + margin);
        }
        prompt = List.copyOf(prompt);
        chosen = List.copyOf(chosen);
        rejected = List.copyOf(rejected);
    }

    /** A pair without margin. */
    public PreferencePair(List<ChatMessage> prompt, List<ChatMessage> chosen, List<ChatMessage> rejected,
            String source) {
        this(prompt, chosen, rejected, null, source);
    }

    /** The prompt followed by the chosen response. */
    public Conversation chosenConversation() {
        return new Conversation(concat(prompt, chosen), source);
    }

    /** The prompt followed by the rejected response. */
    public Conversation rejectedConversation() {
        return new Conversation(concat(prompt, rejected), source);
    }

    static List<ChatMessage> concat(List<ChatMessage> a, List<ChatMessage> b) {
        java.util.ArrayList<ChatMessage> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static void check(List<ChatMessage> msgs, String field, String source) {
        if (msgs == null || msgs.isEmpty()) {
            throw new LoroException(source + ": field '" + field + "' is empty");
        }
        for (ChatMessage m : msgs) {
            if (m == null) {
                throw new LoroException(source + ": field '" + field + "' has a null message");
            }
            if (!ROLES.contains(m.role())) {
                throw new LoroException(source + ": field '" + field + "' has a message with role '" + m.role()
                        + "'; allowed: system, user, assistant");
            }
        }
    }
}
