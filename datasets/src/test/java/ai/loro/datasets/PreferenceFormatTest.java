package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceFormatTest {
    @TempDir Path dir;

    static ChatMessage u(String s) {
        return ChatMessage.user(s);
    }

    static ChatMessage a(String s) {
        return ChatMessage.assistant(s);
    }

    private List<Row> rows(String name, String... lines) {
        return DatasetReader.read(TestData.write(dir, name, String.join("\n", lines) + "\n"), BadRows.failFast());
    }

    private PreferencePair one(PreferenceFormat f, String line) {
        List<PreferencePair> ps = f.parseAll(rows("d.jsonl", line), BadRows.failFast());
        assertEquals(1, ps.size());
        return ps.get(0);
    }

    @Test
    void trlExplicitStrings() {
        PreferencePair p = one(PreferenceFormat.PREFERENCE,
                "{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\"}");
        assertEquals(List.of(u("The sky is")), p.prompt());
        assertEquals(List.of(a(" blue.")), p.chosen());
        assertEquals(List.of(a(" green.")), p.rejected());
        assertNull(p.margin());
        assertTrue(p.source().endsWith("d.jsonl:1"), p.source());
    }

    @Test
    void trlExplicitMessagesAndMargin() {
        PreferencePair p = one(PreferenceFormat.PREFERENCE, "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be kind.\"},"
                + " {\"role\": \"user\", \"content\": \"What color is the sky?\"}],"
                + " \"chosen\": [{\"role\": \"assistant\", \"content\": \"It is blue.\"}],"
                + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"It is green.\"}], \"margin\": 1.5}");
        assertEquals(List.of(ChatMessage.system("Be kind."), u("What color is the sky?")), p.prompt());
        assertEquals(List.of(a("It is blue.")), p.chosen());
        assertEquals(List.of(a("It is green.")), p.rejected());
        assertEquals(1.5, p.margin());
        // chosen/rejected that repeat the prompt first: the copy is removed
        PreferencePair q = one(PreferenceFormat.PREFERENCE, "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                + " \"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}],"
                + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"Go away\"}]}");
        assertEquals(List.of(u("Hi")), q.prompt());
        assertEquals(List.of(a("Hello")), q.chosen());
        assertEquals(List.of(a("Go away")), q.rejected());
    }

    @Test
    void trlImplicitStringsFollowExtractPrompt() {
        // TRL docs example: the common prefix "The sky is " is moved back before the space
        PreferencePair p = one(PreferenceFormat.PREFERENCE,
                "{\"chosen\": \"The sky is blue.\", \"rejected\": \"The sky is green.\"}");
        assertEquals(List.of(u("The sky is")), p.prompt());
        assertEquals(List.of(a(" blue.")), p.chosen());
        assertEquals(List.of(a(" green.")), p.rejected());
        // a newline then a space before the split: only the space moves to the responses
        PreferencePair q = one(PreferenceFormat.PREFERENCE, "{\"chosen\": \"Q: 2+2?\\nA: 4\", \"rejected\": \"Q: 2+2?\\nA: 5\"}");
        assertEquals(List.of(u("Q: 2+2?\nA:")), q.prompt());
        assertEquals(List.of(a(" 4")), q.chosen());
        // no space before the split: the common prefix is the prompt
        PreferencePair r = one(PreferenceFormat.PREFERENCE, "{\"chosen\": \"x=1\", \"rejected\": \"x=2\"}");
        assertEquals(List.of(u("x=")), r.prompt());
        assertEquals(List.of(a("1")), r.chosen());
        assertEquals(List.of(a("2")), r.rejected());
    }

    @Test
    void trlImplicitMessages() {
        PreferencePair p = one(PreferenceFormat.PREFERENCE, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"},"
                + " {\"role\": \"assistant\", \"content\": \"Hello!\"}, {\"role\": \"user\", \"content\": \"Sky color?\"},"
                + " {\"role\": \"assistant\", \"content\": \"Blue.\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello!\"},"
                + " {\"role\": \"user\", \"content\": \"Sky color?\"}, {\"role\": \"assistant\", \"content\": \"Green.\"}]}");
        assertEquals(List.of(u("Hi"), a("Hello!"), u("Sky color?")), p.prompt());
        assertEquals(List.of(a("Blue.")), p.chosen());
        assertEquals(List.of(a("Green.")), p.rejected());
    }

    @Test
    void mathStepDpo() {
        PreferencePair p = one(PreferenceFormat.MATH_STEP_DPO, "{\"dataset\": \"MATH\", \"prompt\": \"What is 2*3+1?\","
                + " \"initial_reason_steps\": \"Step 1: 2*3 = 6.\\n\", \"chosen\": \"Step 2: 6+1 = 7. The answer is 7.\","
                + " \"rejected\": \"Step 2: 6+1 = 8. The answer is 8.\", \"answer\": \"7\"}");
        assertEquals(List.of(u("What is 2*3+1?")), p.prompt());
        assertEquals(List.of(a("Step 1: 2*3 = 6.\nStep 2: 6+1 = 7. The answer is 7.")), p.chosen());
        assertEquals(List.of(a("Step 1: 2*3 = 6.\nStep 2: 6+1 = 8. The answer is 8.")), p.rejected());
        // empty initial_reason_steps: the step alone, no separator
        PreferencePair q = one(PreferenceFormat.MATH_STEP_DPO, "{\"prompt\": \"1+1?\", \"initial_reason_steps\": \"\","
                + " \"chosen\": \"Step 1: 2.\", \"rejected\": \"Step 1: 3.\"}");
        assertEquals(List.of(a("Step 1: 2.")), q.chosen());
        assertEquals(List.of(a("Step 1: 3.")), q.rejected());
    }

    @Test
    void ultraFeedback() {
        PreferencePair p = one(PreferenceFormat.ULTRAFEEDBACK, "{\"prompt\": \"Name a prime.\", \"prompt_id\": \"x\","
                + " \"chosen\": [{\"role\": \"user\", \"content\": \"Name a prime.\"}, {\"role\": \"assistant\", \"content\": \"7\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"Name a prime.\"}, {\"role\": \"assistant\", \"content\": \"9\"}],"
                + " \"score_chosen\": 8.5, \"score_rejected\": 3.0}");
        assertEquals(List.of(u("Name a prime.")), p.prompt());
        assertEquals(List.of(a("7")), p.chosen());
        assertEquals(List.of(a("9")), p.rejected());
        assertEquals(5.5, p.margin());
        PreferencePair q = one(PreferenceFormat.ULTRAFEEDBACK, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"B\"}]}");
        assertNull(q.margin());
    }

    @Test
    void formatNames() {
        assertEquals(PreferenceFormat.HH_RLHF, PreferenceFormat.of("hh-rlhf"));
        assertEquals(PreferenceFormat.MATH_STEP_DPO, PreferenceFormat.of("math_step_dpo"));
        assertEquals("math-step-dpo", PreferenceFormat.MATH_STEP_DPO.id());
        LoroException e = assertThrows(LoroException.class, () -> PreferenceFormat.of("kto"));
        assertTrue(e.getMessage().contains("preference, hh-rlhf, oasst, math-step-dpo, ultrafeedback"), e.getMessage());
    }

    /** Each bad row fails naming file:line (line 2) and the field; skipped and counted when skipping. */
    private void assertBad(PreferenceFormat f, String line, String... expected) {
        String good = switch (f) {
            case MATH_STEP_DPO -> "{\"prompt\": \"p\", \"initial_reason_steps\": \"\", \"chosen\": \"x\", \"rejected\": \"y\"}";
            case ULTRAFEEDBACK -> "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", \"content\": \"A\"}],"
                    + " \"rejected\": [{\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", \"content\": \"B\"}]}";
            case HH_RLHF -> "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yo\", \"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: no\"}";
            default -> "{\"prompt\": \"p\", \"chosen\": \"x\", \"rejected\": \"y\"}";
        };
        List<Row> rs = rows("bad.jsonl", good, line);
        LoroException e = assertThrows(LoroException.class, () -> f.parseAll(rs, BadRows.failFast()));
        assertTrue(e.getMessage().contains("bad.jsonl:2: "), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
        }
        BadRows skip = BadRows.skipAndCount();
        assertEquals(1, f.parseAll(rs, skip).size());
        assertEquals(1, skip.count());
        assertEquals(e.getMessage(), skip.messages().get(0));
    }

    @Test
    void badRows() {
        PreferenceFormat t = PreferenceFormat.PREFERENCE;
        assertBad(t, "{\"prompt\": \"p\", \"chosen\": \"x\"}", "field 'rejected' is missing");
        assertBad(t, "{\"rejected\": \"x\"}", "field 'chosen' is missing");
        assertBad(t, "{\"prompt\": \"\", \"chosen\": \"x\", \"rejected\": \"y\"}", "field 'prompt' is empty");
        assertBad(t, "{\"prompt\": \"p\", \"chosen\": \"  \", \"rejected\": \"y\"}", "field 'chosen' is an empty response");
        assertBad(t, "{\"prompt\": \"p\", \"chosen\": \"same\", \"rejected\": \"same\"}", "'chosen' and 'rejected' are identical");
        assertBad(t, "{\"chosen\": \"same\", \"rejected\": \"same\"}", "identical");
        assertBad(t, "{\"chosen\": \"Yes.\", \"rejected\": \"No.\"}", "prompt mismatch", "no common prompt");
        assertBad(t, "{\"chosen\": \"Sky: blue\", \"rejected\": \"Sky: blue!\"}", "field 'chosen' is an empty response");
        assertBad(t, "{\"chosen\": [{\"role\": \"user\", \"content\": \"A\"}, {\"role\": \"assistant\", \"content\": \"x\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"B\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}",
                "prompt mismatch");
        assertBad(t, "{\"prompt\": [{\"role\": \"user\", \"content\": \"A\"}],"
                + " \"chosen\": [{\"role\": \"user\", \"content\": \"B\"}, {\"role\": \"assistant\", \"content\": \"x\"}],"
                + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"y\"}]}", "prompt mismatch", "field 'chosen'");
        assertBad(t, "{\"prompt\": [{\"role\": \"user\", \"content\": \"A\"}],"
                + " \"chosen\": [{\"role\": \"assistant\", \"content\": \"\"}],"
                + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"y\"}]}", "field 'chosen' is an empty response");
        assertBad(t, "{\"prompt\": [{\"role\": \"user\", \"content\": \"A\"}], \"chosen\": [{\"role\": \"bot\","
                + " \"content\": \"x\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"y\"}]}",
                "'chosen[0].role' is 'bot'");
        assertBad(t, "{\"prompt\": \"p\", \"chosen\": \"x\", \"rejected\": \"y\", \"margin\": \"big\"}",
                "field 'margin' must be a number");
        assertBad(PreferenceFormat.MATH_STEP_DPO, "{\"prompt\": \"p\", \"chosen\": \"Step 2\"}", "field 'rejected' is missing");
        assertBad(PreferenceFormat.MATH_STEP_DPO, "{\"prompt\": \"p\", \"initial_reason_steps\": \"s\", \"chosen\": \"\","
                + " \"rejected\": \"y\"}", "field 'chosen' is an empty response");
        assertBad(PreferenceFormat.MATH_STEP_DPO, "{\"prompt\": \"p\", \"initial_reason_steps\": \"s\", \"chosen\": \"z\","
                + " \"rejected\": \"z\"}", "identical");
        assertBad(PreferenceFormat.ULTRAFEEDBACK, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}]}", "field 'rejected' is missing");
        assertBad(PreferenceFormat.ULTRAFEEDBACK, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}]}", "identical");
        assertBad(PreferenceFormat.ULTRAFEEDBACK, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"Q\"}]}",
                "field 'rejected' is an empty response");
        assertBad(PreferenceFormat.ULTRAFEEDBACK, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"A\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"Q\"},"
                + " {\"role\": \"assistant\", \"content\": \"B\"}], \"score_chosen\": [1]}", "field 'score_chosen' must be a number");
    }

    @Test
    void csvCellsHoldingMessageLists() {
        List<Row> rs = DatasetReader.read(TestData.write(dir, "p.csv", "prompt,chosen,rejected\n"
                + "\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"Hi\"\"}]\","
                + "\"[{\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"Hello\"\"}]\","
                + "\"[{\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"Bye\"\"}]\"\n"), BadRows.failFast());
        PreferencePair p = PreferenceFormat.PREFERENCE.parseAll(rs, BadRows.failFast()).get(0);
        assertEquals(List.of(u("Hi")), p.prompt());
        assertEquals(List.of(a("Hello")), p.chosen());
    }
}
