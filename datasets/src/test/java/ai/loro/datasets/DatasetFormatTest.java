package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetFormatTest {
    @TempDir Path dir;

    private List<Sample> load(String name, String text, DatasetFormat f) {
        return Datasets.load(TestData.write(dir, name, text), f);
    }

    private static List<ChatMessage> msgs(Sample s) {
        return ((Conversation) s).messages();
    }

    @Test
    void alpaca() {
        List<Sample> s = load("a.jsonl", "{\"instruction\":\"Add\",\"input\":\"1+1\",\"output\":\"2\"}\n"
                + "{\"instruction\":\"Greet\",\"input\":\"\",\"output\":\"Hi\"}\n"
                + "{\"instruction\":\"Greet\",\"output\":\"Hi\"}\n", DatasetFormat.ALPACA);
        assertEquals(List.of(ChatMessage.user("Add"), new ChatMessage("input", "1+1"), ChatMessage.assistant("2")),
                msgs(s.get(0)));
        assertEquals(List.of(ChatMessage.user("Greet"), ChatMessage.assistant("Hi")), msgs(s.get(1)));
        assertEquals(msgs(s.get(1)), msgs(s.get(2)));
        assertEquals(List.of(ChatMessage.user("Add\n\n1+1"), ChatMessage.assistant("2")),
                ((Conversation) s.get(0)).withInputsMerged().messages());
    }

    @Test
    void openOrca() {
        List<Sample> s = load("o.jsonl", "{\"id\":\"niv.1\",\"system_prompt\":\"Be nice.\",\"question\":\"Q\",\"response\":\"R\"}\n"
                + "{\"id\":\"t0.2\",\"system_prompt\":\"\",\"question\":\"Q2\",\"response\":\"R2\"}\n", DatasetFormat.OPENORCA);
        assertEquals(List.of(ChatMessage.system("Be nice."), ChatMessage.user("Q"), ChatMessage.assistant("R")),
                msgs(s.get(0)));
        assertEquals(List.of(ChatMessage.user("Q2"), ChatMessage.assistant("R2")), msgs(s.get(1)));
    }

    @Test
    void shareGpt() {
        List<Sample> s = load("s.json", "[{\"system\":\"sys\",\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},"
                + "{\"from\":\"gpt\",\"value\":\"hello\"},{\"from\":\"human\",\"value\":\"bye\"},{\"from\":\"gpt\",\"value\":\"ciao\"}]},"
                + "{\"conversations\":[{\"from\":\"system\",\"value\":\"s2\"},{\"from\":\"human\",\"value\":\"x\"},{\"from\":\"gpt\",\"value\":\"y\"}]}]",
                DatasetFormat.SHAREGPT);
        assertEquals(List.of(ChatMessage.system("sys"), ChatMessage.user("hi"), ChatMessage.assistant("hello"),
                ChatMessage.user("bye"), ChatMessage.assistant("ciao")), msgs(s.get(0)));
        assertEquals(List.of(ChatMessage.system("s2"), ChatMessage.user("x"), ChatMessage.assistant("y")), msgs(s.get(1)));
    }

    @Test
    void messagesAndCompletion() {
        List<Sample> s = load("m.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n",
                DatasetFormat.MESSAGES);
        assertEquals(List.of(ChatMessage.user("u"), ChatMessage.assistant("a")), msgs(s.get(0)));
        List<Sample> t = load("t.jsonl", "{\"text\":\"Once upon a time\"}\n", DatasetFormat.COMPLETION);
        assertEquals("Once upon a time", ((PlainText) t.get(0)).text());
    }

    @Test
    void csvCellHoldingJsonList() {
        List<Sample> s = load("m.csv", "messages\n\"[{\"\"role\"\":\"\"user\"\",\"\"content\"\":\"\"u, v\"\"},"
                + "{\"\"role\"\":\"\"assistant\"\",\"\"content\"\":\"\"a\"\"}]\"\n", DatasetFormat.MESSAGES);
        assertEquals(List.of(ChatMessage.user("u, v"), ChatMessage.assistant("a")), msgs(s.get(0)));
    }

    private void assertBad(String name, String text, DatasetFormat f, String expectedMessageAfterWhere) {
        Path p = TestData.write(dir, name, text);
        LoroException e = assertThrows(LoroException.class, () -> Datasets.load(p, f));
        assertEquals(p + ":2: " + expectedMessageAfterWhere, e.getMessage());
        BadRows bad = BadRows.skipAndCount();
        List<Sample> kept = Datasets.load(p, f, bad);
        assertEquals(1, kept.size());
        assertEquals(1, bad.count());
        assertEquals(e.getMessage(), bad.messages().get(0));
    }

    @Test
    void badRowsNameFileLineAndField() {
        String ok = "{\"instruction\":\"i\",\"output\":\"o\"}\n";
        assertBad("a1.jsonl", ok + "{\"instruction\":\"i\"}\n", DatasetFormat.ALPACA, "field 'output' is missing");
        assertBad("a2.jsonl", ok + "{\"instruction\":\"\",\"output\":\"o\"}\n", DatasetFormat.ALPACA,
                "field 'instruction' is empty");
        assertBad("a3.jsonl", ok + "{\"instruction\":[1],\"output\":\"o\"}\n", DatasetFormat.ALPACA,
                "field 'instruction' must be a string, got array");
        assertBad("o.jsonl", "{\"question\":\"q\",\"response\":\"r\"}\n{\"question\":\"q\",\"response\":7}\n",
                DatasetFormat.OPENORCA, "field 'response' must be a string, got number");
        String sg = "{\"conversations\":[{\"from\":\"human\",\"value\":\"x\"},{\"from\":\"gpt\",\"value\":\"y\"}]}\n";
        assertBad("s1.jsonl", sg + "{\"conversations\":[{\"from\":\"human\",\"value\":\"x\"},{\"from\":\"robot\",\"value\":\"y\"}]}\n",
                DatasetFormat.SHAREGPT, "'conversations[1].from' is 'robot'; allowed: human, gpt, system (also user, assistant)");
        assertBad("s2.jsonl", sg + "{\"conversations\":[{\"from\":\"human\"}]}\n", DatasetFormat.SHAREGPT,
                "field 'conversations[0].value' is missing");
        assertBad("s3.jsonl", sg + "{\"conversations\":[]}\n", DatasetFormat.SHAREGPT, "field 'conversations' is empty");
        String m = "{\"messages\":[{\"role\":\"user\",\"content\":\"u\"}]}\n";
        assertBad("m1.jsonl", m + "{\"messages\":[{\"role\":\"tool\",\"content\":\"u\"}]}\n", DatasetFormat.MESSAGES,
                "'messages[0].role' is 'tool'; allowed: system, user, assistant");
        assertBad("m2.jsonl", m + "{\"messages\":{\"role\":\"user\"}}\n", DatasetFormat.MESSAGES,
                "field 'messages' must be a list, got object");
        assertBad("t.jsonl", "{\"text\":\"a\"}\n{\"txt\":\"a\"}\n", DatasetFormat.COMPLETION, "field 'text' is missing");
    }

    @Test
    void malformedLineIsABadRowToo() {
        Path p = TestData.write(dir, "x.jsonl", "{\"text\":\"a\"}\n{\"text\":\n{\"text\":\"c\"}\n");
        BadRows bad = BadRows.skipAndCount();
        assertEquals(2, Datasets.load(p, DatasetFormat.COMPLETION, bad).size());
        assertEquals(1, bad.count());
        assertTrue(bad.messages().get(0).startsWith(p + ":2: not valid JSON"));
    }

    @Test
    void formatNames() {
        assertEquals(DatasetFormat.SHAREGPT, DatasetFormat.of("ShareGPT"));
        assertEquals(DatasetFormat.OPENORCA, DatasetFormat.of("open-orca"));
        LoroException e = assertThrows(LoroException.class, () -> DatasetFormat.of("dolly"));
        assertEquals("data set type 'dolly' is not known; allowed: alpaca, openorca, sharegpt, messages, completion",
                e.getMessage());
    }
}
