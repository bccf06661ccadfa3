package ai.loro.datasets;

import static ai.loro.datasets.PreferenceFormatTest.a;
import static ai.loro.datasets.PreferenceFormatTest.u;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Anthropic hh-rlhf transcripts, split as TRL's examples/datasets/hh-rlhf-helpful-base.py does. */
class HhRlhfTest {
    @TempDir Path dir;

    static String line(String chosen, String rejected) {
        try {
            return new ObjectMapper().writeValueAsString(Map.of("chosen", chosen, "rejected", rejected));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<PreferencePair> parse(BadRows bad, String... lines) {
        List<Row> rows = DatasetReader.read(TestData.write(dir, "hh.jsonl", String.join("\n", lines) + "\n"),
                BadRows.failFast());
        return PreferenceFormat.HH_RLHF.parseAll(rows, bad);
    }

    @Test
    void multiTurnPrompt() {
        String prompt = "\n\nHuman: What are some cuss words in english?\n\nAssistant: Here's an incomplete list.\n\n"
                + "Human: What's your favorite one?\n\nAssistant:";
        List<PreferencePair> ps = parse(BadRows.failFast(), line(prompt + " I haven't even thought about it.",
                prompt + " Ass."));
        PreferencePair p = ps.get(0);
        assertEquals(List.of(u("What are some cuss words in english?"), a("Here's an incomplete list."),
                u("What's your favorite one?")), p.prompt());
        assertEquals(List.of(a("I haven't even thought about it.")), p.chosen());
        assertEquals(List.of(a("Ass.")), p.rejected());
        assertTrue(p.source().endsWith("hh.jsonl:1"));
    }

    @Test
    void splitsAtTheLastAssistantOfTheCommonPrefix() {
        // the responses share their first word: the common prefix reaches into the final turn and is cut back
        String prompt = "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Tell me a joke.\n\nAssistant: ";
        PreferencePair p = parse(BadRows.failFast(), line(prompt + "Why did the chicken cross the road?",
                prompt + "Why not.")).get(0);
        assertEquals(List.of(u("Hi"), a("Hello."), u("Tell me a joke.")), p.prompt());
        assertEquals(List.of(a("Why did the chicken cross the road?")), p.chosen());
        assertEquals(List.of(a("Why not.")), p.rejected());
        // one turn; content with inner newlines is kept whole
        PreferencePair q = parse(BadRows.failFast(), line("\n\nHuman: List two.\n\nAssistant: 1.\n2.",
                "\n\nHuman: List two.\n\nAssistant: No.")).get(0);
        assertEquals(List.of(u("List two.")), q.prompt());
        assertEquals(List.of(a("1.\n2.")), q.chosen());
    }

    @Test
    void badRows() {
        String good = line("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: a\n\nAssistant: c");
        String[][] cases = {
            {line("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: a\n\nAssistant: b"), "identical"},
            {line("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: a\n\nAssistant:"), "field 'rejected' is an empty response"},
            {line("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: x\n\nAssistant: b"), "prompt mismatch"},
            {"{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant: b\"}", "field 'rejected' is missing"},
            {"{\"chosen\": 3, \"rejected\": \"x\"}", "field 'chosen' must be a string"},
        };
        for (String[] c : cases) {
            LoroException e = assertThrows(LoroException.class, () -> parse(BadRows.failFast(), good, c[0]));
            assertTrue(e.getMessage().contains("hh.jsonl:2: ") && e.getMessage().contains(c[1]), e.getMessage());
            BadRows skip = BadRows.skipAndCount();
            assertEquals(1, parse(skip, good, c[0]).size());
            assertEquals(1, skip.count());
        }
    }
}
