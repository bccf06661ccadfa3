package ai.loro.datasets;

import ai.loro.core.LoroException;

/** Plain text for language-model training (the "completion" format): loss on every token. */
public record PlainText(String text, String source) implements Sample {
    public PlainText {
        if (text == null) {
            throw new LoroException(source + ": text is null");
        }
    }
}
