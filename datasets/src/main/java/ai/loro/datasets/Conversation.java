package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Chat messages with roles system, user and assistant, and where they came from. The Alpaca format
 * also produces a message with role {@value #INPUT_ROLE} right after the user message (the Alpaca
 * "input"); the builtin "alpaca" template renders it as the "### Input:" part, and {@link
 * #withInputsMerged()} turns it into "instruction\n\ninput" for every other template.
 */
public record Conversation(List<ChatMessage> messages, String source) implements Sample {
    public static final String INPUT_ROLE = "input";
    public static final Set<String> ROLES = Set.of("system", "user", "assistant", INPUT_ROLE);

    public Conversation {
        if (messages == null || messages.isEmpty()) {
            throw new LoroException(source + ": conversation has no messages");
        }
        for (ChatMessage m : messages) {
            if (!ROLES.contains(m.role())) {
                throw new LoroException(source + ": message role '" + m.role()
                        + "' is not allowed; use system, user or assistant");
            }
        }
        messages = List.copyOf(messages);
    }

    /** Whether any message has role "input" (Alpaca with input). */
    public boolean hasInputs() {
        return messages.stream().anyMatch(m -> m.role().equals(INPUT_ROLE));
    }

    /** The conversation with each "input" message appended to the user message before it, after "\n\n". */
    public Conversation withInputsMerged() {
        if (!hasInputs()) {
            return this;
        }
        List<ChatMessage> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            if (m.role().equals(INPUT_ROLE)) {
                int last = out.size() - 1;
                if (last < 0 || !out.get(last).role().equals("user")) {
                    throw new LoroException(source + ": an input message must follow a user message");
                }
                out.set(last, ChatMessage.user(out.get(last).content() + "\n\n" + m.content()));
            } else {
                out.add(m);
            }
        }
        return new Conversation(out, source);
    }
}
