package ai.loro.datasets;

import static ai.loro.datasets.EncodeDatasetTest.trainedRuns;
import static ai.loro.datasets.PreferenceFormatTest.a;
import static ai.loro.datasets.PreferenceFormatTest.u;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared prompt tokens on the real Llama 3 (own template) and Qwen3 (builtin "chatml": Jinjava cannot render
 * Qwen3's own template) tokenizers from shared/tokenizers; skipped when absent.
 */
class PreferenceEncoderRealTest {
    private static final Map<String, LoroTokenizer> LOADED = new HashMap<>();
    @TempDir Path dir;

    private static synchronized LoroTokenizer real(String name) {
        LoroTokenizer t = LOADED.get(name);
        if (t == null) {
            t = LoroTokenizer.load(TestData.sharedTokenizer(name));
            LOADED.put(name, t);
        }
        return t;
    }

    @AfterAll
    static void closeAll() {
        LOADED.values().forEach(LoroTokenizer::close);
        LOADED.clear();
    }

    /** Pairs from every format, parsed from inline rows. */
    private List<PreferencePair> pairs() {
        String prompt = "\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water.\n\nHuman: For how long?"
                + "\n\nAssistant:";
        List<Row> hh = DatasetReader.read(TestData.write(dir, "hh.jsonl", HhRlhfTest.line(prompt
                + " About 7 minutes for a firm yolk.", prompt + " Until it's done, I guess.") + "\n"), BadRows.failFast());
        List<Row> trl = DatasetReader.read(TestData.write(dir, "trl.jsonl",
                "{\"chosen\": \"The sky is blue.\", \"rejected\": \"The sky is green.\"}\n"
                + "{\"prompt\": \"Écris un haïku.\", \"chosen\": \"Vent d'automne —\\nles feuilles\", \"rejected\": \"Non.\"}\n"),
                BadRows.failFast());
        List<Row> math = DatasetReader.read(TestData.write(dir, "m.jsonl", "{\"prompt\": \"What is $3^2+1$?\","
                + " \"initial_reason_steps\": \"Step 1: $3^2 = 9$.\\n\", \"chosen\": \"Step 2: $9+1 = 10$. The answer is \\\\boxed{10}.\","
                + " \"rejected\": \"Step 2: $9+1 = 11$.\"}\n"), BadRows.failFast());
        List<PreferencePair> out = new java.util.ArrayList<>();
        out.addAll(PreferenceFormat.HH_RLHF.parseAll(hh, BadRows.failFast()));
        out.addAll(PreferenceFormat.PREFERENCE.parseAll(trl, BadRows.failFast()));
        out.addAll(PreferenceFormat.MATH_STEP_DPO.parseAll(math, BadRows.failFast()));
        out.add(new PreferencePair(List.of(ChatMessage.system("You are terse."), u("Capital of France?")),
                List.of(a("Paris.")), List.of(a("Lyon, I believe.")), 1.0, "inline"));
        return out;
    }

    private static String text(LoroTokenizer tok, long[] ids) {
        return tok.decode(ids, false);
    }

    @Test
    void llama3SharedPromptTokens() {
        LoroTokenizer tok = real("llama3");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096));
        ChatTemplate t = tok.chatTemplate();
        Map<String, Object> vars = tok.specialTokensMap();
        for (PreferencePair p : pairs()) {
            EncodedPair e = enc.encode(p);
            String promptRender = t.render(p.prompt(), true, vars);
            long[] prompt = tok.encode(promptRender, false);
            assertEquals(tok.bosId(), prompt[0]); // from the template, not added twice
            assertEquals(tok.bosId(), e.chosenIds()[0]);
            assertTrue(e.chosenIds()[1] != tok.bosId());
            // same prompt tokens in both sequences, equal to the prompt tokenized alone
            assertArrayEquals(prompt, Arrays.copyOf(e.chosenIds(), e.promptLength()));
            assertArrayEquals(prompt, Arrays.copyOf(e.rejectedIds(), e.promptLength()));
            // each sequence = the whole render tokenized at once + EOS (<|end_of_text|>; turns end with <|eot_id|>);
            // this template appends the assistant header even without add_generation_prompt: left out
            for (List<ChatMessage> r : List.of(p.chosen(), p.rejected())) {
                String full = t.render(PreferencePair.concat(p.prompt(), r), false, vars);
                assertTrue(full.endsWith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
                full = full.substring(0, full.indexOf("<|eot_id|>", promptRender.length()) + "<|eot_id|>".length());
                long[] expected = TestArrays.concat(tok.encode(full, false), new long[] {tok.eosId()});
                long[] got = r == p.chosen() ? e.chosenIds() : e.rejectedIds();
                assertArrayEquals(expected, got, p.source());
                Example ex = r == p.chosen() ? e.chosen() : e.rejected();
                assertEquals(List.of(r.get(0).content().strip() + "<|eot_id|><|end_of_text|>"), trainedRuns(tok, ex));
            }
        }
    }

    @Test
    void qwen3ChatmlSharedPromptTokens() {
        LoroTokenizer tok = real("qwen3");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("chatml"));
        ChatTemplate t = ChatTemplate.builtin("chatml");
        for (PreferencePair p : pairs()) {
            EncodedPair e = enc.encode(p);
            long[] prompt = tok.encode(t.render(p.prompt(), true, Map.of()), false);
            assertArrayEquals(prompt, e.promptIds());
            assertArrayEquals(prompt, Arrays.copyOf(e.rejectedIds(), e.promptLength()));
            for (List<ChatMessage> r : List.of(p.chosen(), p.rejected())) {
                String full = t.render(PreferencePair.concat(p.prompt(), r), false, Map.of());
                assertTrue(full.endsWith("<|im_end|>\n"));
                long[] got = r == p.chosen() ? e.chosenIds() : e.rejectedIds();
                assertArrayEquals(tok.encode(full, false), got, p.source()); // EOS is <|im_end|>: nothing appended
                Example ex = r == p.chosen() ? e.chosen() : e.rejected();
                assertEquals(List.of(r.get(0).content() + "<|im_end|>"), trainedRuns(tok, ex));
            }
        }
        PreferenceBatch b = PreferenceCollator.collate(enc.encodeAll(pairs(), BadRows.failFast()), Collator.padId(tok));
        assertEquals(2 * pairs().size(), b.batch().size());
        assertEquals("<|endoftext|>", text(tok, new long[] {Collator.padId(tok)}));
    }

    @Test
    void llama3AlpacaAndBoundaryCheck() {
        LoroTokenizer tok = real("llama3");
        PreferenceEncoder enc = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("alpaca"));
        PreferencePair p = new PreferencePair(List.of(u("Name a prime.")), List.of(a("7")), List.of(a("9")), "a:1");
        EncodedPair e = enc.encode(p);
        String prompt = EncodeDatasetTest.ALPACA_NO_INPUT.replace("{instruction}", "Name a prime.");
        // BOS prepended only when the tokenizer adds one to text (this tokenizer.json's post-processor does not)
        long[] promptIds = tok.encode(prompt, true);
        assertArrayEquals(promptIds, e.promptIds());
        assertEquals(List.of("7<|end_of_text|>"), trainedRuns(tok, e.chosen()));
        assertEquals(List.of("9<|end_of_text|>"), trainedRuns(tok, e.rejected()));

        // a response starting with ":" merges with the prompt's "Response:" when tokenized whole
        PreferencePair merge = new PreferencePair(List.of(u("Emoticon?")), List.of(a(":)")), List.of(a("none")), "a:2");
        long[] whole = tok.encode(prompt.replace("Name a prime.", "Emoticon?") + ":)", false);
        long[] sep = TestArrays.concat(tok.encode(prompt.replace("Name a prime.", "Emoticon?"), false), tok.encode(":)", false));
        assertTrue(!Arrays.equals(whole, sep), "expected a merged token at the boundary");
        {
            LoroException x = assertThrows(LoroException.class, () -> enc.encode(merge));
            assertTrue(x.getMessage().contains("a:2: field 'chosen'") && x.getMessage().contains("boundary"), x.getMessage());
            EncodedPair loose = new PreferenceEncoder(tok, EncodeOptions.of(4096).withTemplate("alpaca")
                    .withStrictBoundaries(false)).encode(merge);
            assertEquals(List.of(":)<|end_of_text|>"), trainedRuns(tok, loose.chosen()));
        }
    }
}
