package ai.loro.core.tokenizer;

import ai.loro.core.LoroException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small self-contained tokenizer (tokenizer.json + tokenizer_config.json) that DJL's
 * HuggingFaceTokenizer loads: used by {@code loro quickstart} and tests, because no tokenizer can be
 * downloaded.
 *
 * <p>The tokenizer is a byte-level BPE (GPT-2 byte-to-unicode alphabet, ByteLevel pre-tokenizer and
 * decoder) with the 256 byte tokens, id = byte value, and no merges, so every UTF-8 text round-trips
 * exactly and each byte is one token. Added special tokens follow, with fixed ids whatever the
 * template: {@value #BOS} 256, {@value #EOS} 257, {@value #PAD} 258, "&lt;|start_header_id|&gt;" 259,
 * "&lt;|end_header_id|&gt;" 260, "&lt;|eot_id|&gt;" 261, "&lt;|im_start|&gt;" 262, "&lt;|im_end|&gt;"
 * 263; vocabulary size {@value #VOCAB_SIZE}. encode(text, true) prepends BOS (add_bos_token=true).
 * The eos token is the one the template ends assistant turns with: "&lt;|eot_id|&gt;" for llama3,
 * "&lt;|im_end|&gt;" for chatml, {@value #EOS} otherwise.
 */
public final class TinyTokenizers {
    public static final String BOS = "<|begin_of_text|>";
    public static final String EOS = "<|end_of_text|>";
    public static final String PAD = "<|pad|>";
    public static final List<String> SPECIAL_TOKENS = List.of(BOS, EOS, PAD, "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>");
    public static final int VOCAB_SIZE = 256 + 8;

    private TinyTokenizers() {}

    /** GPT-2 bytes_to_unicode: the printable character standing for each byte. */
    static char[] byteToUnicode() {
        char[] map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (256 + n++);
        }
        return map;
    }

    /**
     * Writes dir/tokenizer.json and dir/tokenizer_config.json (creating dir). {@code
     * chatTemplateBuiltinName} is one of {@link ChatTemplate#builtinNames()}, or null for no chat
     * template.
     */
    public static void writeByteLevel(Path dir, String chatTemplateBuiltinName) {
        String template = chatTemplateBuiltinName == null ? null : ChatTemplate.builtin(chatTemplateBuiltinName).source();
        String eos = chatTemplateBuiltinName == null ? EOS : switch (chatTemplateBuiltinName) {
            case "llama3" -> "<|eot_id|>";
            case "chatml" -> "<|im_end|>";
            default -> EOS;
        };

        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("truncation", null);
        tok.put("padding", null);
        List<Object> added = new ArrayList<>();
        Map<String, Object> decoderAdded = new LinkedHashMap<>();
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", 256 + i);
            a.put("content", SPECIAL_TOKENS.get(i));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
            added.add(a);
            Map<String, Object> d = new LinkedHashMap<>(a);
            d.remove("id");
            decoderAdded.put(String.valueOf(256 + i), d);
        }
        tok.put("added_tokens", added);
        tok.put("normalizer", null);
        tok.put("pre_tokenizer", byteLevel(true));
        Map<String, Object> post = new LinkedHashMap<>();
        post.put("type", "TemplateProcessing");
        post.put("single", List.of(Map.of("SpecialToken", Map.of("id", BOS, "type_id", 0)),
                Map.of("Sequence", Map.of("id", "A", "type_id", 0))));
        post.put("pair", List.of(Map.of("SpecialToken", Map.of("id", BOS, "type_id", 0)),
                Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                Map.of("SpecialToken", Map.of("id", BOS, "type_id", 1)),
                Map.of("Sequence", Map.of("id", "B", "type_id", 1))));
        post.put("special_tokens", Map.of(BOS, Map.of("id", BOS, "ids", List.of(256), "tokens", List.of(BOS))));
        tok.put("post_processor", post);
        tok.put("decoder", byteLevel(true));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        Map<String, Object> vocab = new LinkedHashMap<>();
        char[] b2u = byteToUnicode();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(b2u[b]), b);
        }
        model.put("vocab", vocab);
        model.put("merges", List.of());
        tok.put("model", model);

        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("add_bos_token", true);
        cfg.put("add_eos_token", false);
        cfg.put("added_tokens_decoder", decoderAdded);
        cfg.put("bos_token", BOS);
        cfg.put("eos_token", eos);
        cfg.put("pad_token", PAD);
        cfg.put("unk_token", null);
        if (template != null) {
            cfg.put("chat_template", template);
        }
        cfg.put("clean_up_tokenization_spaces", false);
        cfg.put("model_max_length", 1_000_000);
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");

        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            Files.createDirectories(dir);
            mapper.writeValue(dir.resolve("tokenizer.json").toFile(), tok);
            mapper.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
        } catch (IOException e) {
            throw new LoroException(dir + ": cannot write tokenizer files: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> byteLevel(boolean useRegex) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "ByteLevel");
        m.put("add_prefix_space", false);
        m.put("trim_offsets", true);
        m.put("use_regex", useRegex);
        return m;
    }
}
