package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer as llama.cpp reads it from GGUF metadata (docs/gguf.md, "Tokenizer"): byte-level BPE
 * ({@code tokenizer.ggml.model = "gpt2"}) with the token strings exactly as tokenizer.json spells them,
 * their types, the merges, and the name of the pre-tokenizer family. llama.cpp does not read the
 * pre-tokenizer regex from the file; it picks its own by {@code tokenizer.ggml.pre}, so a family we
 * cannot name is an error: a wrong or missing name tokenizes differently without failing.
 */
final class GgufTokenizer {
    private GgufTokenizer() {}

    /** llama.cpp token types. */
    static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    /**
     * The pre-tokenizer families llama.cpp names, by the Split regex tokenizer.json carries (the
     * digit rule tells Llama 3's {@code \p{N}{1,3}} from Qwen2's single {@code \p{N}}).
     */
    static final Map<String, String> PRE_BY_REGEX = Map.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "llama-bpe",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2");

    /** Writes the tokenizer keys for a model whose embedding has {@code vocabSize} rows. */
    static void write(GgufWriter w, Path modelDir, int vocabSize) {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": not found; a GGUF model carries its tokenizer, so the model folder"
                    + " needs tokenizer.json (copy it from the base model)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new LoroException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new LoroException(file + ": model.type is '" + model.path("type").asText()
                    + "'; GGUF export supports byte-level BPE tokenizers (Llama 3, Qwen2/3, GPT-2 style)");
        }
        String pre = preTokenizer(root.path("pre_tokenizer"), file);

        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        var vocab = model.path("vocab").fields();
        while (vocab.hasNext()) {
            var e = vocab.next();
            put(tokens, types, e.getValue().asInt(), e.getKey(), NORMAL, file);
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt();
            String content = added.path("content").asText();
            put(tokens, types, id, content, added.path("special").asBoolean() ? CONTROL : USER_DEFINED, file);
        }
        for (int i = 0; i < vocabSize; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = UNUSED;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) {
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                merges.add(m.asText());
            }
        }

        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", pre);
        w.putStrings("tokenizer.ggml.tokens", Arrays.asList(tokens));
        w.putI32s("tokenizer.ggml.token_type", types);
        w.putStrings("tokenizer.ggml.merges", merges);

        try (LoroTokenizer tok = LoroTokenizer.load(modelDir)) {
            if (tok.bosId() != null) {
                w.putU32("tokenizer.ggml.bos_token_id", tok.bosId());
            }
            if (tok.eosId() != null) {
                w.putU32("tokenizer.ggml.eos_token_id", tok.eosId());
            }
            if (tok.padId() != null) {
                w.putU32("tokenizer.ggml.padding_token_id", tok.padId());
            }
            // the chat template's end-of-turn marker, when it is not the EOS (llama.cpp also stops at it)
            List<Long> stops = StopTokens.ids(tok);
            for (Long id : stops) {
                if (!id.equals(tok.eosId())) {
                    w.putU32("tokenizer.ggml.eot_token_id", id);
                    break;
                }
            }
            w.putBool("tokenizer.ggml.add_bos_token", addsBos(tok));
            w.putBool("tokenizer.ggml.add_eos_token", false);
            if (tok.chatTemplate() != null) {
                w.putString("tokenizer.chat_template", tok.chatTemplate().source());
            }
        }
    }

    /** Whether encoding with special tokens puts BOS in front (what Loro trains with). */
    static boolean addsBos(LoroTokenizer tok) {
        long[] with = tok.encode("a", true);
        long[] without = tok.encode("a", false);
        return tok.bosId() != null && with.length > without.length && with[0] == tok.bosId();
    }

    private static void put(String[] tokens, int[] types, int id, String text, int type, Path file) {
        if (id < 0 || id >= tokens.length) {
            throw new LoroException(file + ": token '" + text + "' has id " + id + ", outside the model's vocab_size "
                    + tokens.length + " (the tokenizer does not belong to this model)");
        }
        tokens[id] = text;
        types[id] = type;
    }

    /** The llama.cpp pre-tokenizer name for tokenizer.json's pre_tokenizer, or a one-line error. */
    static String preTokenizer(JsonNode pre, Path file) {
        List<JsonNode> parts = new ArrayList<>();
        if ("Sequence".equals(pre.path("type").asText())) {
            pre.path("pretokenizers").forEach(parts::add);
        } else if (!pre.isMissingNode() && !pre.isNull()) {
            parts.add(pre);
        }
        String regex = null;
        boolean byteLevel = false;
        boolean byteLevelRegex = false;
        for (JsonNode p : parts) {
            switch (p.path("type").asText()) {
                case "Split" -> {
                    if (regex != null) {
                        throw unknownPre(file, "more than one Split");
                    }
                    regex = p.path("pattern").path("Regex").asText(null);
                    if (regex == null) {
                        throw unknownPre(file, "a Split on a plain string");
                    }
                }
                case "ByteLevel" -> {
                    byteLevel = true;
                    byteLevelRegex = p.path("use_regex").asBoolean(true);
                    if (p.path("add_prefix_space").asBoolean(false)) {
                        throw unknownPre(file, "ByteLevel with add_prefix_space");
                    }
                }
                default -> throw unknownPre(file, "a " + p.path("type").asText() + " pre-tokenizer");
            }
        }
        if (!byteLevel) {
            throw unknownPre(file, "no ByteLevel pre-tokenizer");
        }
        if (regex == null) {
            if (byteLevelRegex) {
                return "gpt-2"; // ByteLevel's own regex is GPT-2's
            }
            throw unknownPre(file, "ByteLevel without a splitting regex");
        }
        if (byteLevelRegex) {
            throw unknownPre(file, "a Split followed by ByteLevel's own regex");
        }
        String name = PRE_BY_REGEX.get(regex);
        if (name == null) {
            throw unknownPre(file, "the Split regex " + abbreviate(regex));
        }
        return name;
    }

    private static LoroException unknownPre(Path file, String what) {
        return new LoroException(file + ": pre_tokenizer has " + what + ", which is not a pre-tokenizer family llama.cpp"
                + " names (known: llama-bpe = Llama 3, qwen2 = Qwen2/Qwen3, gpt-2 = ByteLevel's own regex); llama.cpp would"
                + " tokenize such text differently, so no GGUF is written");
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? "'" + s.substring(0, 80) + "...'" : "'" + s + "'";
    }
}
