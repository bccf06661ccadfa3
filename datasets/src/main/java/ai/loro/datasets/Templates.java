package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;

/** The recipe's {@code chat_template} choice: the tokenizer's own ("tokenizer") or a built-in by name. */
public final class Templates {
    private Templates() {}

    public static ChatTemplate resolve(String name, LoroTokenizer tokenizer) {
        if (!name.equals("tokenizer")) {
            return ChatTemplate.builtin(name);
        }
        ChatTemplate t = tokenizer.chatTemplate();
        if (t == null) {
            throw new LoroException(tokenizer.directory() + ": the tokenizer has no chat_template; set chat_template in the"
                    + " recipe to one of " + String.join(", ", ChatTemplate.builtinNames()));
        }
        return t;
    }
}
