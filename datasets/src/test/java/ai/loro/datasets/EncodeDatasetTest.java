package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loss masks, BOS/EOS, Alpaca prompts and truncation on the tiny byte-level tokenizer (one token per byte). */
class EncodeDatasetTest {
    @TempDir Path dir;

    static final String ALPACA_WITH_INPUT = "Below is an instruction that describes a task, paired with an input that"
            + " provides further context. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";
    static final String ALPACA_NO_INPUT = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:";

    private LoroTokenizer tiny(String template) {
        Path d = dir.resolve("tok-" + template);
        TinyTokenizers.writeByteLevel(d, template);
        return LoroTokenizer.load(d);
    }

    /** The decoded text of each run of consecutive trained tokens. */
    static List<String> trainedRuns(LoroTokenizer tok, Example e) {
        List<String> runs = new ArrayList<>();
        int i = 0;
        while (i < e.length()) {
            if (!e.lossMask()[i]) {
                i++;
                continue;
            }
            int j = i;
            while (j < e.length() && e.lossMask()[j]) {
                j++;
            }
            runs.add(tok.decode(Arrays.copyOfRange(e.inputIds(), i, j), false));
            i = j;
        }
        return runs;
    }

    static Conversation fiveTurns() {
        return new Conversation(List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi there"),
                ChatMessage.assistant("Hello! How can I help?"), ChatMessage.user("Capital of France?"),
                ChatMessage.assistant("Paris.")), "test:1");
    }

    @Test
    void chatmlMasksOnlyAssistantContentAndEndOfTurn() {
        try (LoroTokenizer tok = tiny("chatml")) {
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096));
            Example e = enc.encode(fiveTurns());
            assertEquals(List.of("Hello! How can I help?<|im_end|>", "Paris.<|im_end|>"), trainedRuns(tok, e));
            String render = tok.applyChatTemplate(fiveTurns().messages(), false);
            // BOS prepended (the tiny tokenizer adds BOS; ChatML does not write it); no EOS appended (render ends with it)
            assertEquals(TinyTokenizers.BOS + render, tok.decode(e.inputIds(), false));
            assertTrue(render.endsWith("<|im_end|>\n"));
            long[] labels = e.labels();
            for (int i = 0; i < e.length(); i++) {
                assertEquals(e.lossMask()[i] ? e.inputIds()[i] : -100, labels[i]);
            }
        }
    }

    @Test
    void trainOnInputsTrainsEverythingButTheFirstToken() {
        try (LoroTokenizer tok = tiny("chatml")) {
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096).withTrainOnInputs(true)).encode(fiveTurns());
            assertEquals(e.length() - 1, e.trainableTokens());
            assertFalse(e.lossMask()[0]);
        }
    }

    @Test
    void llama3TemplateAppendsEosWhenTheRenderDoesNotEndWithIt() {
        Path d = dir.resolve("tok-l3");
        TinyTokenizers.writeByteLevel(d, "llama3");
        try (LoroTokenizer tok = LoroTokenizer.load(d)) {
            // eos is <|eot_id|> for this tiny tokenizer; the render ends with it: nothing appended
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096)).encode(fiveTurns());
            assertEquals(List.of("Hello! How can I help?<|eot_id|>", "Paris.<|eot_id|>"), trainedRuns(tok, e));
            assertEquals(tok.applyChatTemplate(fiveTurns().messages(), false), tok.decode(e.inputIds(), false));
        }
        try (LoroTokenizer tok = tiny("chatml")) {
            // the llama3 builtin with a tokenizer whose EOS is <|im_end|>: EOS appended, trained
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate("llama3")).encode(fiveTurns());
            assertEquals(List.of("Hello! How can I help?<|eot_id|>", "Paris.<|eot_id|><|im_end|>"), trainedRuns(tok, e));
            Example noEos = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate("llama3").withAppendEos(false))
                    .encode(fiveTurns());
            assertEquals(e.length() - 1, noEos.length());
        }
    }

    @Test
    void alpacaExactPrompts() {
        Path f = TestData.write(dir, "a.jsonl", "{\"instruction\":\"Add the numbers.\",\"input\":\"1 and 1\",\"output\":\"2\"}\n"
                + "{\"instruction\":\"Say hi.\",\"input\":\"\",\"output\":\"Hi!\"}\n");
        List<Sample> s = Datasets.load(f, DatasetFormat.ALPACA);
        try (LoroTokenizer tok = tiny("alpaca")) {
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate("alpaca"));
            Example withInput = enc.encode(s.get(0));
            String prompt1 = ALPACA_WITH_INPUT.replace("{instruction}", "Add the numbers.").replace("{input}", "1 and 1");
            assertEquals(TinyTokenizers.BOS + prompt1 + "2" + TinyTokenizers.EOS, tok.decode(withInput.inputIds(), false));
            assertEquals(List.of("2" + TinyTokenizers.EOS), trainedRuns(tok, withInput));
            Example noInput = enc.encode(s.get(1));
            String prompt2 = ALPACA_NO_INPUT.replace("{instruction}", "Say hi.");
            assertEquals(TinyTokenizers.BOS + prompt2 + "Hi!" + TinyTokenizers.EOS, tok.decode(noInput.inputIds(), false));
            assertEquals(List.of("Hi!" + TinyTokenizers.EOS), trainedRuns(tok, noInput));
            // the tokenizer's own template is the alpaca builtin too (detected by its source)
            ExampleEncoder own = new ExampleEncoder(tok, EncodeOptions.of(4096));
            assertArrayEquals(withInput.inputIds(), own.encode(s.get(0)).inputIds());
        }
        try (LoroTokenizer tok = tiny("chatml")) {
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096)).encode(s.get(0));
            assertEquals(TinyTokenizers.BOS + "<|im_start|>user\nAdd the numbers.\n\n1 and 1<|im_end|>\n"
                    + "<|im_start|>assistant\n2<|im_end|>\n", tok.decode(e.inputIds(), false));
        }
    }

    @Test
    void completionTrainsAllTokensAndEndsWithEos() {
        try (LoroTokenizer tok = tiny("chatml")) {
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096)).encode(new PlainText("abc", "t:1"));
            assertEquals(TinyTokenizers.BOS + "abc<|im_end|>", tok.decode(e.inputIds(), false));
            assertEquals(List.of("abc<|im_end|>"), trainedRuns(tok, e));
        }
    }

    @Test
    void truncationIsCountedAndEmptyExamplesDropped() {
        try (LoroTokenizer tok = tiny("chatml")) {
            Conversation c = fiveTurns();
            ExampleEncoder enc0 = new ExampleEncoder(tok, EncodeOptions.of(4096));
            int full = enc0.tokenize(c).length();
            String prefix = tok.applyChatTemplate(c.messages().subList(0, 2), true);
            int promptLen = tok.encode(prefix, false).length + 1; // + BOS

            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(promptLen + 5));
            Example cut = enc.encode(c);
            assertEquals(promptLen + 5, cut.length());
            assertEquals(List.of("Hello"), trainedRuns(tok, cut));
            ExampleEncoder enc2 = new ExampleEncoder(tok, EncodeOptions.of(promptLen));
            assertNull(enc2.encode(c)); // only the prompt fits: nothing to train
            Example userOnly = enc2.encode(new Conversation(List.of(ChatMessage.user("x")), "t:3"));
            assertNull(userOnly); // no assistant turn at all
            assertEquals(2, enc2.stats().droppedNoTrainable());
            assertEquals(1, enc2.stats().truncatedExamples());
            assertEquals(full - promptLen, enc2.stats().truncatedTokens());
            assertEquals(1, enc.stats().truncatedExamples());
            assertEquals(full - promptLen - 5, enc.stats().truncatedTokens());
            assertEquals(1, enc.stats().kept());
            assertTrue(enc.stats().summary(promptLen + 5).contains("1 truncated"));
        }
    }

    @Test
    void notPrefixStableTemplateFailsClearly() {
        ChatTemplate lastSpecial = ChatTemplate.of("{% for m in messages %}{% if loop.last %}LAST {% endif %}"
                + "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}",
                "test template");
        try (LoroTokenizer tok = tiny("chatml")) {
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate(lastSpecial));
            LoroException e = assertThrows(ExampleEncoder.TemplateNotPrefixStable.class, () -> enc.encode(fiveTurns()));
            assertTrue(e.getMessage().startsWith("test template is not prefix-stable (at test:1, assistant message 2)"),
                    e.getMessage());
            // never skipped as a bad row: it concerns the whole data set
            assertThrows(ExampleEncoder.TemplateNotPrefixStable.class,
                    () -> enc.encodeAll(List.of(fiveTurns()), BadRows.skipAndCount()));
        }
    }

    @Test
    void assistantFirstIsABadRow() {
        try (LoroTokenizer tok = tiny("chatml")) {
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096));
            Conversation c = new Conversation(List.of(ChatMessage.assistant("x"), ChatMessage.user("y")), "f.jsonl:7");
            LoroException e = assertThrows(LoroException.class, () -> enc.encode(c));
            assertTrue(e.getMessage().startsWith("f.jsonl:7: the conversation starts with an assistant message"));
            BadRows bad = BadRows.skipAndCount();
            assertEquals(1, enc.encodeAll(List.of(c, fiveTurns()), bad).size());
            assertEquals(1, bad.count());
        }
    }
}
