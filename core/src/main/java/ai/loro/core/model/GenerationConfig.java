package ai.loro.core.model;

import ai.loro.core.io.JsonFields;
import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.io.PyJson;
import ai.loro.core.tokenizer.StopTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A model folder's {@code generation_config.json} (docs/generation-config.md): the token ids generation
 * starts and ends with, and sampling defaults. Loro reads the fields below (types checked, one-line
 * errors naming the file and field) and keeps every other field as it was when it writes the file.
 *
 * @param eosTokenIds every id that ends generation ({@code eos_token_id}: one int or a list); empty when absent
 * @param fields every field of the file, as JSON values (maps, lists, strings, numbers, booleans)
 */
public record GenerationConfig(Long bosTokenId, List<Long> eosTokenIds, Long padTokenId, Boolean doSample,
                               Double temperature, Double topP, Integer topK, Integer maxNewTokens, Integer maxLength,
                               Double repetitionPenalty, Map<String, Object> fields) {
    public static final String FILE = "generation_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /**
     * {@code dir/generation_config.json}, or null when the folder has none.
     *
     * @param vocabSize token ids must lie in [0, vocabSize)
     */
    public static GenerationConfig read(Path dir, int vocabSize) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new LoroException(file + ": not valid JSON: " + LlamaConfig.firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new LoroException(file + ": expected a JSON object");
        }
        return parse(root, file.toString(), vocabSize);
    }

    /** The fields of a generation_config.json object; {@code source} names it in errors. */
    public static GenerationConfig parse(JsonNode root, String source, int vocabSize) {
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = JSON.convertValue(root, LinkedHashMap.class);
        JsonFields f = new JsonFields(root, source);
        return new GenerationConfig(f.optionalTokenId("bos_token_id", vocabSize), f.tokenIds("eos_token_id", vocabSize),
                f.optionalTokenId("pad_token_id", vocabSize), f.optionalBool("do_sample"),
                number(root, "temperature", source, 0, false, "a number >= 0"), number(root, "top_p", source, 0, true, "a number in (0, 1]"),
                integer(root, "top_k", source, 0), integer(root, "max_new_tokens", source, 0), integer(root, "max_length", source, 1),
                number(root, "repetition_penalty", source, 0, true, "a number > 0"), fields);
    }

    /**
     * What Loro writes beside a model with {@code config} whose tokenizer files come from {@code sourceDir}
     * (may be null): the source's generation_config.json with every field kept, {@code bos_token_id} and
     * {@code pad_token_id} from config.json (else the source file's, else the tokenizer's), and as
     * {@code eos_token_id} the union, in order, of config.json's ids, the source file's and
     * {@link StopTokens#ids} of the tokenizer.
     */
    public static GenerationConfig forModel(LlamaConfig config, Path sourceDir) {
        GenerationConfig source = sourceDir == null ? null : read(sourceDir, config.vocabSize());
        if (sourceDir == null || !Files.isRegularFile(sourceDir.resolve("tokenizer.json"))) {
            return merged(config, source, null);
        }
        try (LoroTokenizer tokenizer = LoroTokenizer.load(sourceDir)) {
            return merged(config, source, tokenizer);
        }
    }

    /** {@link #forModel} with the source file and tokenizer given (either may be null). */
    public static GenerationConfig merged(LlamaConfig config, GenerationConfig source, LoroTokenizer tokenizer) {
        Set<Long> eos = new LinkedHashSet<>(config.eosTokenIds());
        Map<String, Object> fields = new LinkedHashMap<>();
        Long bos = config.bosTokenId();
        Long pad = config.padTokenId();
        if (source != null) {
            eos.addAll(source.eosTokenIds());
            fields.putAll(source.fields());
            bos = bos != null ? bos : source.bosTokenId();
            pad = pad != null ? pad : source.padTokenId();
        }
        if (tokenizer != null) {
            for (Long id : StopTokens.ids(tokenizer)) {
                if (id < config.vocabSize()) {
                    eos.add(id);
                }
            }
            bos = bos != null ? bos : inVocab(tokenizer.bosId(), config);
            pad = pad != null ? pad : inVocab(tokenizer.padId(), config);
        }
        putOrRemove(fields, "bos_token_id", bos);
        putOrRemove(fields, "eos_token_id", eos.isEmpty() ? null : eos.size() == 1 ? eos.iterator().next() : List.copyOf(eos));
        putOrRemove(fields, "pad_token_id", pad);
        return parse(JSON.valueToTree(fields), "generation_config.json", config.vocabSize());
    }

    /** The file text as transformers writes it: {@code json.dumps(indent=2, sort_keys=True)} and a newline. */
    public String toJsonString() {
        return PyJson.dumps(sorted(fields), "  ") + "\n";
    }

    /** Writes {@code dir/generation_config.json} atomically. */
    public void write(Path dir) {
        ai.loro.core.io.AtomicFiles.writeString(dir.resolve(FILE), toJsonString());
    }

    // ------------------------------------------------------------------ helpers

    private static Long inVocab(Long id, LlamaConfig config) {
        return id != null && id < config.vocabSize() ? id : null;
    }

    private static void putOrRemove(Map<String, Object> fields, String key, Object value) {
        if (value == null) {
            fields.remove(key);
        } else {
            fields.put(key, value);
        }
    }

    private static Object sorted(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), sorted(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(GenerationConfig::sorted).toList();
        }
        return v;
    }

    private static JsonNode field(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v;
    }





    /** A number above {@code min} (or equal when {@code exclusiveMin} is false); top_p is also at most 1. */
    private static Double number(JsonNode root, String key, String source, double min, boolean exclusiveMin, String allowed) {
        JsonNode v = field(root, key);
        if (v == null) {
            return null;
        }
        double d = v.asDouble();
        boolean ok = v.isNumber() && Double.isFinite(d) && (exclusiveMin ? d > min : d >= min) && (!key.equals("top_p") || d <= 1);
        if (!ok) {
            throw new LoroException(source + ": '" + key + "' must be " + allowed + ", got " + v);
        }
        return d;
    }

    private static Integer integer(JsonNode root, String key, String source, int min) {
        JsonNode v = field(root, key);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
            throw new LoroException(source + ": '" + key + "' must be an integer >= " + min + ", got " + v);
        }
        return v.asInt();
    }
}
