package ai.loro.datasets;

import static ai.loro.datasets.EncodeDatasetTest.trainedRuns;
import static ai.loro.datasets.PreferenceFormatTest.a;
import static ai.loro.datasets.PreferenceFormatTest.u;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pair encoding on the tiny byte-level tokenizer (one token per byte; special tokens whole). */
class PreferenceEncoderTest {
    @TempDir Path dir;

    private LoroTokenizer tiny(String template) {
        Path d = dir.resolve("tok-" + template);
        TinyTokenizers.writeByteLevel(d, template);
        return LoroTokenizer.load(d);
    }

    static PreferencePair multiTurn() {
        return new PreferencePair(List.of(ChatMessage.system("Be brief."), u("Hi"), a("Hello!"), u("Sky color?")),
                List.of(a("Blue.")), List.of(a("Green, mostly.")), 2.0, "t:1");
    }

    /** Checks the shared prompt and that each sequence is the prompt tokens followed by its response's tokens. */
    static void assertSharedPrompt(LoroTokenizer tok, EncodedPair e, long[] expectedPrompt) {
        int n = e.promptLength();
        assertArrayEquals(expectedPrompt, e.promptIds());
        assertArrayEquals(Arrays.copyOf(e.chosenIds(), n), Arrays.copyOf(e.rejectedIds(), n));
        for (int i = 0; i < n; i++) {
            assertFalse(e.chosenMask()[i]);
            assertFalse(e.rejectedMask()[i]);
        }
    }

    @Test
    void chatml() {
        LoroTokenizer tok = tiny("chatml");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096));
        PreferencePair p = multiTurn();
        EncodedPair e = enc.encode(p);
        ChatTemplate t = ChatTemplate.builtin("chatml");
        String promptRender = t.render(p.prompt(), true, Map.of());
        assertTrue(promptRender.endsWith("<|im_start|>user\nSky color?<|im_end|>\n<|im_start|>assistant\n"));
        // BOS: the tiny tokenizer adds it to text and ChatML has none, so it is prepended
        long[] prompt = TestArrays.concat(new long[] {tok.bosId()}, tok.encode(promptRender, false));
        assertSharedPrompt(tok, e, prompt);
        assertEquals(TinyTokenizers.BOS + promptRender + "Blue.<|im_end|>\n", tok.decode(e.chosenIds(), false));
        assertEquals(TinyTokenizers.BOS + promptRender + "Green, mostly.<|im_end|>\n", tok.decode(e.rejectedIds(), false));
        // EOS (<|im_end|>) ends the turn already: not appended; the "\n" after it is not trained
        assertEquals(List.of("Blue.<|im_end|>"), trainedRuns(tok, e.chosen()));
        assertEquals(List.of("Green, mostly.<|im_end|>"), trainedRuns(tok, e.rejected()));
        assertEquals(2.0, e.margin());
        assertEquals("t:1", e.source());
        // the chosen sequence is the whole render of prompt + chosen, tokenized at once
        assertArrayEquals(TestArrays.concat(new long[] {tok.bosId()},
                tok.encode(t.render(p.chosenConversation().messages(), false, Map.of()), false)), e.chosenIds());
    }

    @Test
    void llama3() {
        LoroTokenizer tok = tiny("llama3");
        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(4096)).encode(multiTurn());
        String promptRender = tok.applyChatTemplate(multiTurn().prompt(), true);
        assertTrue(promptRender.startsWith(TinyTokenizers.BOS) && promptRender.endsWith(
                "<|start_header_id|>assistant<|end_header_id|>\n\n"));
        assertSharedPrompt(tok, e, tok.encode(promptRender, false)); // the template emits BOS: not added again
        assertEquals(promptRender + "Blue.<|eot_id|>", tok.decode(e.chosenIds(), false));
        assertEquals(List.of("Blue.<|eot_id|>"), trainedRuns(tok, e.chosen()));
        assertEquals(List.of("Green, mostly.<|eot_id|>"), trainedRuns(tok, e.rejected()));
    }

    @Test
    void alpaca() {
        LoroTokenizer tok = tiny(null);
        PreferencePair p = new PreferencePair(List.of(u("Name a prime.")), List.of(a("7")), List.of(a("9, no: 8")), "t:2");
        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("alpaca")).encode(p);
        String prompt = EncodeDatasetTest.ALPACA_NO_INPUT.replace("{instruction}", "Name a prime.");
        assertSharedPrompt(tok, e, TestArrays.concat(new long[] {tok.bosId()}, tok.encode(prompt, false)));
        assertEquals(TinyTokenizers.BOS + prompt + "7" + TinyTokenizers.EOS, tok.decode(e.chosenIds(), false));
        assertEquals(List.of("7" + TinyTokenizers.EOS), trainedRuns(tok, e.chosen()));
        assertEquals(List.of("9, no: 8" + TinyTokenizers.EOS), trainedRuns(tok, e.rejected()));
        assertNull(e.margin());
    }

    @Test
    void eosAppendedWhenTheTemplateDoesNotEndWithIt() {
        // the tiny tokenizer without template has EOS <|end_of_text|>; ChatML ends turns with <|im_end|>
        LoroTokenizer tok = tiny(null);
        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("chatml")).encode(multiTurn());
        assertEquals(List.of("Blue.<|im_end|>", TinyTokenizers.EOS), trainedRuns(tok, e.chosen()));
        EncodedPair n = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("chatml").withAppendEos(false))
                .encode(multiTurn());
        assertEquals(List.of("Blue.<|im_end|>"), trainedRuns(tok, n.chosen()));
    }

    @Test
    void truncationKeepsThePromptAndCountsEverything() {
        LoroTokenizer tok = tiny("llama3");
        PreferencePair p = multiTurn();
        PreferenceEncoder probe = new PreferenceEncoder(tok, EncodeOptions.of(4096));
        EncodedPair full = probe.encode(p);
        int prompt = full.promptLength();
        int chosenLen = full.chosenIds().length; // "Blue.<|eot_id|>" = 6 response tokens
        int rejectedLen = full.rejectedIds().length; // 15 response tokens
        assertEquals(prompt + 6, chosenLen);
        assertEquals(prompt + 15, rejectedLen);

        // room for 10 response tokens: chosen fits, rejected is cut at its end
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(prompt + 10));
        EncodedPair e = enc.encode(p);
        assertArrayEquals(full.chosenIds(), e.chosenIds());
        assertArrayEquals(Arrays.copyOf(full.rejectedIds(), prompt + 10), e.rejectedIds());
        assertArrayEquals(full.promptIds(), e.promptIds());
        assertEquals("Green, mos", tok.decode(e.rejectedResponseIds(), false));
        PreferenceStats s = enc.stats();
        assertEquals(1, s.truncatedPairs());
        assertEquals(0, s.truncatedChosen());
        assertEquals(1, s.truncatedRejected());
        assertEquals(5, s.truncatedTokens());

        // room for 3: both cut
        enc = new PreferenceEncoder(tok, EncodeOptions.of(prompt + 3));
        e = enc.encode(p);
        assertEquals("Blu", tok.decode(e.chosenResponseIds(), false));
        assertEquals("Gre", tok.decode(e.rejectedResponseIds(), false));
        assertEquals(1, enc.stats().truncatedChosen());
        assertEquals(1, enc.stats().truncatedRejected());
        assertEquals(3 + 12, enc.stats().truncatedTokens());

        // the prompt alone fills sequence_len (or exceeds it): dropped and counted
        for (int len : new int[] {prompt, prompt - 5}) {
            enc = new PreferenceEncoder(tok, EncodeOptions.of(len));
            List<EncodedPair> out = enc.encodeAll(List.of(p, new PreferencePair(List.of(u("x")), List.of(a("y")),
                    List.of(a("z")), "t:3")), BadRows.failFast());
            assertEquals(1, out.size());
            assertEquals(2, enc.stats().encoded());
            assertEquals(1, enc.stats().kept());
            assertEquals(1, enc.stats().droppedPromptTooLong());
            assertEquals(0, enc.stats().truncatedPairs());
            assertTrue(enc.stats().summary(len).contains("1 dropped: prompt alone fills sequence_len"));
        }
    }

    @Test
    void rowErrorsAreSkippedOrThrown() {
        LoroTokenizer tok = tiny(null);
        // the alpaca template raises for a system message: that pair fails, the other is kept
        PreferencePair sys = new PreferencePair(List.of(ChatMessage.system("s"), u("q")), List.of(a("x")),
                List.of(a("y")), "bad.jsonl:7");
        PreferencePair ok = new PreferencePair(List.of(u("q")), List.of(a("x")), List.of(a("y")), "ok.jsonl:1");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("alpaca"));
        assertThrows(LoroException.class, () -> enc.encodeAll(List.of(ok, sys), BadRows.failFast()));
        BadRows skip = BadRows.skipAndCount();
        assertEquals(1, enc.encodeAll(List.of(ok, sys), skip).size());
        assertEquals(1, skip.count());
    }

    @Test
    void pairValidation() {
        assertTrue(assertThrows(LoroException.class, () -> new PreferencePair(List.of(u("q")), List.of(a("x")),
                List.of(a("x")), "f:1")).getMessage().contains("f:1: fields 'chosen' and 'rejected' are identical"));
        assertTrue(assertThrows(LoroException.class, () -> new PreferencePair(List.of(), List.of(a("x")),
                List.of(a("y")), "f:2")).getMessage().contains("f:2: field 'prompt' is empty"));
        assertTrue(assertThrows(LoroException.class, () -> new PreferencePair(List.of(u("q")), List.of(u("x")),
                List.of(a("y")), "f:3")).getMessage().contains("f:3: field 'chosen' must end with an assistant message"));
        assertTrue(assertThrows(LoroException.class, () -> new PreferencePair(List.of(u("q")), List.of(a("x")),
                List.of(a(" ")), "f:4")).getMessage().contains("f:4: field 'rejected' is an empty response"));
    }

    @Test
    void collationLayout() {
        LoroTokenizer tok = tiny("chatml");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096));
        EncodedPair p0 = enc.encode(multiTurn());
        EncodedPair p1 = enc.encode(new PreferencePair(List.of(u("2+2?")), List.of(a("4")), List.of(a("22")), 0.5, "t:9"));
        long pad = Collator.padId(tok);
        PreferenceBatch b = PreferenceCollator.collate(List.of(p0, p1), pad);
        assertEquals(2, b.pairs());
        assertEquals(4, b.batch().size());
        int len = Math.max(p0.rejectedIds().length, p0.chosenIds().length);
        assertEquals(len, b.batch().length());
        EncodedPair[] pairs = {p0, p1};
        for (int i = 0; i < 2; i++) {
            assertEquals(i, b.chosenRow(i));
            assertEquals(2 + i, b.rejectedRow(i));
            assertRow(b.batch(), i, pairs[i].chosenIds(), pairs[i].chosenMask(), pad);
            assertRow(b.batch(), 2 + i, pairs[i].rejectedIds(), pairs[i].rejectedMask(), pad);
            assertEquals(pairs[i].promptLength(), b.promptLengths()[i]);
        }
        assertArrayEquals(new Double[] {2.0, 0.5}, b.margins());
        assertTrue(b.hasMargins());
        assertArrayEquals(new double[] {2.0, 0.5}, b.marginsOrZero());
        assertEquals("t:9", b.sources()[1]);
        // rounded up to a multiple
        PreferenceBatch r = PreferenceCollator.collate(List.of(p0, p1), pad, 64);
        assertEquals(0, r.batch().length() % 64);
        assertRow(r.batch(), 3, p1.rejectedIds(), p1.rejectedMask(), pad);
    }

    private static void assertRow(Batch b, int row, long[] ids, boolean[] mask, long pad) {
        for (int i = 0; i < b.length(); i++) {
            boolean tokenHere = i < ids.length;
            assertEquals(tokenHere ? ids[i] : pad, b.inputIds()[row][i]);
            assertEquals(tokenHere ? 1 : 0, b.attentionMask()[row][i]);
            assertEquals(tokenHere && mask[i], b.lossMask()[row][i]);
            assertEquals(tokenHere && mask[i] ? ids[i] : Example.IGNORE_INDEX, b.labels()[row][i]);
        }
    }
}
