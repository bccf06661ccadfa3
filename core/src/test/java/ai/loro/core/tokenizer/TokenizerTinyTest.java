package ai.loro.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.loro.core.LoroException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

class TokenizerTinyTest {
    @TempDir
    Path tmp;

    @Test
    void byteLevelRoundTripsAnyText() {
        Path dir = tmp.resolve("tiny");
        TinyTokenizers.writeByteLevel(dir, "llama3");
        try (LoroTokenizer t = LoroTokenizer.load(dir)) {
            assertEquals(TinyTokenizers.VOCAB_SIZE, t.vocabSize());
            assertEquals(256L, t.bosId());
            assertEquals("<|eot_id|>", t.eosToken());
            assertEquals(261L, t.eosId());
            assertEquals(258L, t.padId());
            assertArrayEquals(new long[] {'A', ' ', 'b'}, t.encode("A b", false));
            assertArrayEquals(new long[] {256, 'A'}, t.encode("A", true));
            assertArrayEquals(new long[] {0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80}, t.encode("é😀", false));
            for (String s : TokenizerRealTest.TEXTS) {
                long[] ids = t.encode(s, false);
                assertEquals(s.getBytes(StandardCharsets.UTF_8).length
                        - countSpecialBytes(s) + countSpecials(s), ids.length, s);
                assertEquals(s, t.decode(ids, false));
                assertEquals(TinyTokenizers.BOS + s, t.decode(t.encode(s, true), false));
            }
            Random r = new Random(42);
            for (int k = 0; k < 200; k++) {
                StringBuilder sb = new StringBuilder();
                int n = r.nextInt(40);
                for (int i = 0; i < n; i++) {
                    int cp;
                    do {
                        cp = r.nextInt(4) == 0 ? r.nextInt(0x20000) : r.nextInt(0x80);
                    } while (!Character.isValidCodePoint(cp) || (cp >= 0xD800 && cp <= 0xDFFF));
                    sb.appendCodePoint(cp);
                }
                String s = sb.toString();
                assertEquals(s, t.decode(t.encode(s, false), false));
            }
            String chat = t.applyChatTemplate(List.of(ChatMessage.user("Hi")), true);
            assertArrayEquals(new long[] {256, 259, 'u', 's', 'e', 'r', 260, '\n', '\n', 'H', 'i', 261, 259, 'a', 's', 's',
                'i', 's', 't', 'a', 'n', 't', 260, '\n', '\n'}, t.encode(chat, false));
        }
    }

    private static int countSpecials(String s) {
        int n = 0;
        for (String sp : TinyTokenizers.SPECIAL_TOKENS) {
            n += s.split(java.util.regex.Pattern.quote(sp), -1).length - 1;
        }
        return n;
    }

    private static int countSpecialBytes(String s) {
        int n = 0;
        for (String sp : TinyTokenizers.SPECIAL_TOKENS) {
            n += (s.split(java.util.regex.Pattern.quote(sp), -1).length - 1) * sp.length();
        }
        return n;
    }

    @Test
    void eachBuiltinTemplate() {
        for (String name : ChatTemplate.builtinNames()) {
            Path dir = tmp.resolve(name);
            TinyTokenizers.writeByteLevel(dir, name);
            try (LoroTokenizer t = LoroTokenizer.load(dir)) {
                String text = t.applyChatTemplate(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Yo")), false);
                assertEquals(text, t.decode(t.encode(text, false), false));
                long eos = t.eosId();
                long[] ids = t.encode(text, false);
                if (!name.equals("llama2")) {
                    assertEquals(true, contains(ids, eos), name + ": " + text);
                }
            }
        }
        Path none = tmp.resolve("none");
        TinyTokenizers.writeByteLevel(none, null);
        try (LoroTokenizer t = LoroTokenizer.load(none)) {
            assertEquals(null, t.chatTemplate());
            assertEquals("<|end_of_text|>", t.eosToken());
            assertThrows(LoroException.class, () -> t.applyChatTemplate(List.of(ChatMessage.user("x")), true));
        }
        assertThrows(LoroException.class, () -> TinyTokenizers.writeByteLevel(tmp.resolve("bad"), "nope"));
        assertEquals(false, Files.exists(tmp.resolve("bad")));
    }

    private static boolean contains(long[] ids, long id) {
        for (long v : ids) {
            if (v == id) {
                return true;
            }
        }
        return false;
    }
}
