package ai.loro.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class TokenizerLoadTest {
    @TempDir
    Path tmp;

    private static LoroException fails(Path dir) {
        LoroException e = assertThrows(LoroException.class, () -> LoroTokenizer.load(dir).close());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    private Path tiny(String name) {
        Path dir = tmp.resolve(name);
        TinyTokenizers.writeByteLevel(dir, "chatml");
        return dir;
    }

    @Test
    void missingDirectoryOrTokenizerJson() throws Exception {
        LoroException e = fails(tmp.resolve("nowhere"));
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = fails(empty);
        assertTrue(e.getMessage().contains(empty.resolve("tokenizer.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void malformedTokenizerJson() throws Exception {
        Path dir = tiny("badjson");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0}");
        LoroException e = fails(dir);
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json").toString()), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\", \"vocab\": {\"a\": 0}}}");
        e = fails(dir);
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": not a valid Hugging Face"), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "[]");
        fails(dir);
    }

    @Test
    void malformedTokenizerConfig() throws Exception {
        Path dir = tiny("badcfg");
        Path cfg = dir.resolve("tokenizer_config.json");
        Files.writeString(cfg, "{\"bos_token\": \"<|begin_of_text|>\",");
        LoroException e = fails(dir);
        assertTrue(e.getMessage().startsWith(cfg + ": not valid JSON"), e.getMessage());
        Files.writeString(cfg, "[1, 2]");
        assertTrue(fails(dir).getMessage().startsWith(cfg.toString()));
        Files.writeString(cfg, "{\"bos_token\": 5}");
        e = fails(dir);
        assertTrue(e.getMessage().startsWith(cfg + ": bos_token must be"), e.getMessage());
        Files.writeString(cfg, "{\"add_bos_token\": \"yes\"}");
        assertTrue(fails(dir).getMessage().contains("add_bos_token"));
        Files.writeString(cfg, "{\"chat_template\": 3}");
        assertTrue(fails(dir).getMessage().contains("chat_template must be"));
    }

    @Test
    void configIsOptional() throws Exception {
        Path dir = tiny("nocfg");
        Files.delete(dir.resolve("tokenizer_config.json"));
        try (LoroTokenizer t = LoroTokenizer.load(dir)) {
            assertEquals(null, t.bosId());
            assertEquals(null, t.eosToken());
            assertEquals(null, t.chatTemplate());
            assertTrue(t.specialTokensMap().isEmpty());
            // tokenizer.json's TemplateProcessing post-processor adds BOS
            assertEquals(List.of(256L, 65L), toList(t.encode("A", true)));
        }
    }

    @Test
    void chatTemplateSources() throws Exception {
        Path dir = tiny("templates");
        Path cfg = dir.resolve("tokenizer_config.json");
        Files.writeString(cfg, "{\"eos_token\": \"<|im_end|>\", \"chat_template\": [{\"name\": \"tool_use\", \"template\":"
                + " \"T\"}, {\"name\": \"default\", \"template\": \"D{{ messages[0].content }}\"}]}");
        try (LoroTokenizer t = LoroTokenizer.load(dir)) {
            assertEquals("Dx", t.applyChatTemplate(List.of(ChatMessage.user("x")), false));
            assertEquals(List.of("tool_use", "default"), List.copyOf(t.namedChatTemplates().keySet()));
        }
        Files.writeString(cfg, "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}]}");
        try (LoroTokenizer t = LoroTokenizer.load(dir)) {
            LoroException e = assertThrows(LoroException.class, t::chatTemplate);
            assertTrue(e.getMessage().contains("no 'default'") && e.getMessage().contains("tool_use"), e.getMessage());
        }
        Files.writeString(cfg, "{\"chat_template\": [{\"name\": \"x\"}]}");
        assertTrue(fails(dir).getMessage().contains("chat_template list entries"));
        // a root chat_template.jinja wins over the inline template
        Files.writeString(cfg, "{\"chat_template\": \"inline\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file:{{ messages|length }}");
        try (LoroTokenizer t = LoroTokenizer.load(dir)) {
            assertEquals("file:1", t.applyChatTemplate(List.of(ChatMessage.user("x")), false));
            assertTrue(t.chatTemplate().name().endsWith("chat_template.jinja"));
        }
    }

    @Test
    void badInputToEncodeDecode() {
        try (LoroTokenizer t = LoroTokenizer.load(tiny("io"))) {
            assertThrows(LoroException.class, () -> t.encode(null, false));
            LoroException e = assertThrows(LoroException.class, () -> t.decode(new long[] {1, 999}, false));
            assertTrue(e.getMessage().contains("999") && e.getMessage().contains("0..263"), e.getMessage());
            assertThrows(LoroException.class, () -> t.decode(new long[] {-1}, false));
            assertThrows(LoroException.class, () -> new ChatMessage(null, "x"));
            assertThrows(LoroException.class, () -> new ChatMessage("user", null));
        }
    }

    private static List<Long> toList(long[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
