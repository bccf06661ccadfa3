package ai.loro.core.tokenizer;

import ai.loro.core.LoroException;

/**
 * One chat turn: a role ("system", "user", "assistant", "tool", ...) and its text content. Both are
 * required (non-null); content may be empty.
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || role.isEmpty()) {
            throw new LoroException("chat message: role is missing; a message needs a role such as system, user or assistant");
        }
        if (content == null) {
            throw new LoroException("chat message with role '" + role + "': content is null; use \"\" for an empty message");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
