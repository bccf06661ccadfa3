package ai.loro.datasets;

/** One parsed data set record: a {@link Conversation} or {@link PlainText}; source names its file and line. */
public sealed interface Sample permits Conversation, PlainText {
    String source();
}
