package ai.loro.datasets;

import static ai.loro.datasets.EncodeDatasetTest.fiveTurns;
import static ai.loro.datasets.EncodeDatasetTest.trainedRuns;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Loss masks token by token on the real Llama 3 and Qwen3 tokenizers (shared/tokenizers; skipped when
 * absent). Qwen3's own chat template does not render correctly in Jinjava (docs/chat-templates.md:
 * messages[::-1], str.startswith, namespace(expr)), so Qwen3 data is rendered with the builtin "chatml"
 * template: the same turn format as Qwen3's for conversations without tools and without thinking
 * ("<think>" blocks are not added).
 */
class EncodeDatasetRealTest {
    private static final java.util.Map<String, LoroTokenizer> LOADED = new java.util.HashMap<>();

    /** Each real tokenizer is loaded once for the class (loading takes seconds); skipped when absent. */
    private static synchronized LoroTokenizer real(String name) {
        LoroTokenizer t = LOADED.get(name);
        if (t == null) {
            t = LoroTokenizer.load(TestData.sharedTokenizer(name));
            LOADED.put(name, t);
        }
        return t;
    }

    @org.junit.jupiter.api.AfterAll
    static void closeAll() {
        LOADED.values().forEach(LoroTokenizer::close);
        LOADED.clear();
    }

    /** Checks that each token is trained exactly when it lies in an assistant turn's trained span. */
    private static void assertMaskMatchesRuns(LoroTokenizer tok, Example e, List<String> expectedRuns) {
        assertEquals(expectedRuns, trainedRuns(tok, e));
        // the trained token ids are exactly the tokens of the expected runs, tokenized one run at a time
        long[] expected = expectedRuns.stream().flatMapToLong(r -> java.util.Arrays.stream(tok.encode(r, false)))
                .toArray();
        assertArrayEquals(expected, e.trainedIds());
    }

    @Test
    void llama3OwnTemplate() {
        {
            LoroTokenizer tok = real("llama3");
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096));
            Example e = enc.encode(fiveTurns());
            String render = tok.applyChatTemplate(fiveTurns().messages(), false);
            assertTrue(render.startsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"));
            // this tokenizer's EOS is <|end_of_text|> (the template ends turns with <|eot_id|>): appended, trained
            assertEquals("<|end_of_text|>", tok.eosToken());
            assertMaskMatchesRuns(tok, e, List.of("Hello! How can I help?<|eot_id|>", "Paris.<|eot_id|><|end_of_text|>"));
            // this template appends the assistant header even without add_generation_prompt: left out
            assertTrue(render.endsWith("Paris.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
            long[] whole = tok.encode(render.substring(0, render.lastIndexOf("<|start_header_id|>")), false);
            assertArrayEquals(whole, java.util.Arrays.copyOf(e.inputIds(), whole.length)); // no extra BOS
            assertEquals(whole.length + 1, e.length());
            assertEquals(tok.bosId(), e.inputIds()[0]);
            for (int i = 0; i < e.length(); i++) {
                // every <|eot_id|> after an assistant header is trained; the header tokens never are
                String piece = tok.decode(new long[] {e.inputIds()[i]}, false);
                if (piece.equals("<|start_header_id|>") || piece.equals("<|end_header_id|>") || piece.equals("assistant")) {
                    assertFalse(e.lossMask()[i], "token " + i + " " + piece);
                }
            }
            Example noEos = new ExampleEncoder(tok, EncodeOptions.of(4096).withAppendEos(false)).encode(fiveTurns());
            assertMaskMatchesRuns(tok, noEos, List.of("Hello! How can I help?<|eot_id|>", "Paris.<|eot_id|>"));
        }
    }

    @Test
    void qwen3WithBuiltinChatml() {
        {
            LoroTokenizer tok = real("qwen3");
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate("chatml"));
            Example e = enc.encode(fiveTurns());
            assertMaskMatchesRuns(tok, e, List.of("Hello! How can I help?<|im_end|>", "Paris.<|im_end|>"));
            String text = tok.decode(e.inputIds(), false);
            assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
                    + "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nCapital of France?"
                    + "<|im_end|>\n<|im_start|>assistant\nParis.<|im_end|>\n", text); // no BOS, no extra EOS
            // the final "\n" after <|im_end|> is not trained
            assertFalse(e.lossMask()[e.length() - 1]);
        }
    }

    @Test
    void qwen3OwnTemplateFailsClearlyInJinjava() {
        LoroTokenizer tok = real("qwen3");
        try {
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096)).encode(fiveTurns());
            // should Jinjava ever render it, the masks must still be right
            assertEquals(2, trainedRuns(tok, e).size());
        } catch (ai.loro.core.LoroException ex) {
            assertTrue(ex.getMessage().contains("builtin template"), ex.getMessage());
        }
    }

    @Test
    void multiLineAndUnicodeContent() {
        Conversation c = new Conversation(List.of(ChatMessage.user("Write code:\n  x = 1"),
                ChatMessage.assistant("```python\nx = 1\nprint(x)  # ünïcödé 日本\n```"),
                ChatMessage.user("Thanks"), ChatMessage.assistant(" Leading space and trailing newline\n")), "t:1");
        {
            LoroTokenizer tok = real("qwen3");
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096).withTemplate("chatml")).encode(c);
            assertMaskMatchesRuns(tok, e, List.of("```python\nx = 1\nprint(x)  # ünïcödé 日本\n```<|im_end|>",
                    " Leading space and trailing newline\n<|im_end|>"));
        }
        {
            LoroTokenizer tok = real("llama3");
            // the Llama 3 template trims contents
            Example e = new ExampleEncoder(tok, EncodeOptions.of(4096).withAppendEos(false)).encode(c);
            assertMaskMatchesRuns(tok, e, List.of("```python\nx = 1\nprint(x)  # ünïcödé 日本\n```<|eot_id|>",
                    "Leading space and trailing newline<|eot_id|>"));
        }
    }

    @Test
    void alpacaPromptMergesWithOutputInByteLevelBpe() {
        // "### Response:" + "The ..." tokenizes as ":The" when whole: strict mode fails the row clearly,
        // lenient mode keeps the prompt's own tokens (as at inference) and trains the output's
        {
            LoroTokenizer tok = real("llama3");
            Conversation c = new Conversation(List.of(ChatMessage.user("Name the capital."),
                    ChatMessage.assistant("The capital is Paris.")), "t:1");
            EncodeOptions o = EncodeOptions.of(4096).withTemplate("alpaca");
            ai.loro.core.LoroException e = org.junit.jupiter.api.Assertions.assertThrows(ai.loro.core.LoroException.class,
                    () -> new ExampleEncoder(tok, o).encode(c));
            assertTrue(e.getMessage().startsWith("t:1: tokenizing the rendered conversation in pieces"), e.getMessage());
            Example lenient = new ExampleEncoder(tok, o.withStrictBoundaries(false)).encode(c);
            assertMaskMatchesRuns(tok, lenient, List.of("The capital is Paris.<|end_of_text|>"));
            // the alpaca template writes no BOS, and this tokenizer.json (ByteLevel post-processor) adds none
            assertTrue(tok.decode(lenient.inputIds(), false).startsWith("Below is an instruction that describes a task."));
        }
    }
}
