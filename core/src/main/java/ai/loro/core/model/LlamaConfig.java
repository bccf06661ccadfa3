package ai.loro.core.model;

import ai.loro.core.io.JsonFields;
import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The validated contents of a Hugging Face {@code config.json} for a Llama-class decoder
 * (docs/llama-math.md). Reads both the transformers 4.x ({@code rope_theta} + {@code rope_scaling}) and
 * 5.x ({@code rope_parameters}) spellings; writes the 4.x spelling, which both read.
 *
 * @param qkvBias bias on q/k/v projections ({@code attention_bias}; always true for Qwen2)
 * @param oBias bias on o_proj ({@code attention_bias}; false for Qwen2)
 * @param slidingWindow Mistral/Qwen2 sliding window, or 0 when attention is full; sequences
 *     longer than the window are refused because the math would differ
 */
public record LlamaConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean oBias,
        boolean mlpBias,
        Long bosTokenId,
        List<Long> eosTokenIds,
        Long padTokenId,
        int slidingWindow,
        double initializerRange,
        int numLabels) {

    public static final List<String> ARCHITECTURES = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
            "LlamaForSequenceClassification", "MistralForSequenceClassification", "Qwen2ForSequenceClassification");

    /** A reward model or classifier ({@code *ForSequenceClassification}): a {@code score} head, no LM head. */
    public boolean isSequenceClassifier() {
        return architecture.endsWith("ForSequenceClassification");
    }

    /** The same backbone with a sequence-classification head of {@code labels} outputs (or back to a causal LM with 0). */
    public LlamaConfig asSequenceClassifier(int labels) {
        String family = architecture.substring(0, architecture.indexOf("For"));
        String arch = labels > 0 ? family + "ForSequenceClassification" : family + "ForCausalLM";
        return new LlamaConfig(arch, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings,
                qkvBias, oBias, mlpBias, bosTokenId, eosTokenIds, padTokenId, slidingWindow, initializerRange, labels);
    }

    /**
     * RoPE frequency scaling. {@code type} is "default", "linear" or "llama3" (docs/llama-math.md).
     */
    public record RopeScaling(
            String type,
            double factor,
            double lowFreqFactor,
            double highFreqFactor,
            int originalMaxPositionEmbeddings) {
        public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);
    }

    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Number of parameters of the causal LM (untied head counted once). */
    public long parameterCount() {
        long h = hiddenSize;
        long q = (long) numAttentionHeads * headDim;
        long kv = (long) numKeyValueHeads * headDim;
        long attn = h * q + 2 * h * kv + q * h + (qkvBias ? q + 2 * kv : 0) + (oBias ? h : 0);
        long mlp = 3 * h * intermediateSize + (mlpBias ? 2L * intermediateSize + h : 0);
        long perLayer = attn + mlp + 2 * h;
        long embed = (long) vocabSize * h;
        long head = isSequenceClassifier() ? (long) numLabels * h : tieWordEmbeddings ? 0 : embed;
        return embed + numHiddenLayers * perLayer + h + head;
    }

    // ------------------------------------------------------------------ reading

    private static final ObjectMapper JSON = new ObjectMapper();

    public static LlamaConfig read(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": config.json not found (a Hugging Face model directory needs one)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new LoroException(file + ": not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new LoroException(file + ": expected a JSON object");
        }
        return parse(root, file.toString());
    }

    public static LlamaConfig parse(JsonNode root, String source) {
        JsonFields f = new JsonFields(root, source);
        String arch = architecture(root, source);
        int hidden = f.positiveInt("hidden_size", null);
        int heads = f.positiveInt("num_attention_heads", null);
        int layers = f.positiveInt("num_hidden_layers", null);
        int inter = f.positiveInt("intermediate_size", null);
        int vocab = f.positiveInt("vocab_size", null);
        int kvHeads = f.positiveInt("num_key_value_heads", heads);
        Integer headDimGiven = f.optionalPositiveInt("head_dim");
        if (headDimGiven == null && hidden % heads != 0) {
            throw new LoroException(source + ": hidden_size " + hidden + " is not divisible by num_attention_heads "
                    + heads + " (set head_dim explicitly or choose heads that divide hidden_size)");
        }
        int headDim = headDimGiven != null ? headDimGiven : hidden / heads;
        if (headDim % 2 != 0) {
            throw new LoroException(source + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        if (heads % kvHeads != 0) {
            throw new LoroException(source + ": num_attention_heads " + heads
                    + " is not divisible by num_key_value_heads " + kvHeads);
        }
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new LoroException(source + ": hidden_act '" + act + "' is not supported (allowed: silu)");
        }
        double eps = f.positiveDouble("rms_norm_eps", 1e-6);
        int maxPos = f.positiveInt("max_position_embeddings", 2048);
        boolean tie = f.bool("tie_word_embeddings", false);
        boolean attnBias = f.bool("attention_bias", false);
        boolean mlpBias = f.bool("mlp_bias", false);
        boolean qwen2 = arch.startsWith("Qwen2");
        boolean qkvBias = qwen2 || attnBias;
        boolean oBias = !qwen2 && attnBias;
        int window = 0;
        if (arch.startsWith("Mistral") && f.has("sliding_window") && !root.get("sliding_window").isNull()) {
            window = f.positiveInt("sliding_window", null);
        }
        if (qwen2 && f.bool("use_sliding_window", false)) {
            window = f.positiveInt("sliding_window", null);
        }
        // rope: transformers 5 "rope_parameters" or 4.x "rope_theta" + "rope_scaling"
        JsonNode ropeParams = root.get("rope_parameters");
        JsonNode scaling = root.get("rope_scaling");
        double theta = f.positiveDouble("rope_theta", 10000.0);
        if (ropeParams != null && !ropeParams.isNull()) {
            if (!ropeParams.isObject()) {
                throw new LoroException(source + ": rope_parameters must be an object");
            }
            if (ropeParams.has("rope_theta")) {
                theta = new JsonFields(ropeParams, source + " rope_parameters").positiveDouble("rope_theta", theta);
            }
            if (scaling == null || scaling.isNull()) {
                scaling = ropeParams;
            }
        }
        RopeScaling rope = parseRopeScaling(scaling, source);
        Long bos = f.optionalTokenId("bos_token_id", vocab);
        List<Long> eos = f.tokenIds("eos_token_id", vocab);
        Long pad = f.optionalTokenId("pad_token_id", vocab);
        double initRange = f.positiveDouble("initializer_range", 0.02);
        int labels = 0;
        if (arch.endsWith("ForSequenceClassification")) {
            // transformers stores num_labels as id2label (PretrainedConfig's default is 2 labels)
            JsonNode id2label = root.get("id2label");
            labels = root.has("num_labels") ? f.positiveInt("num_labels", null)
                    : id2label != null && id2label.isObject() && id2label.size() > 0 ? id2label.size() : 2;
        }
        return new LlamaConfig(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim, eps, theta, rope, maxPos,
                tie, qkvBias, oBias, mlpBias, bos, eos, pad, window, initRange, labels);
    }

    private static RopeScaling parseRopeScaling(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return RopeScaling.NONE;
        }
        if (!node.isObject()) {
            throw new LoroException(source + ": rope_scaling must be an object or null");
        }
        JsonFields f = new JsonFields(node, source + " rope_scaling");
        String type = node.has("rope_type") ? f.string("rope_type", "default") : f.string("type", "default");
        switch (type) {
            case "default":
                return RopeScaling.NONE;
            case "linear":
                return new RopeScaling("linear", f.positiveDouble("factor", null), 0, 0, 0);
            case "llama3": {
                double factor = f.positiveDouble("factor", null);
                double low = f.positiveDouble("low_freq_factor", null);
                double high = f.positiveDouble("high_freq_factor", null);
                int orig = f.positiveInt("original_max_position_embeddings", null);
                if (high <= low) {
                    throw new LoroException(source + ": rope_scaling high_freq_factor (" + high
                            + ") must be greater than low_freq_factor (" + low + ")");
                }
                return new RopeScaling("llama3", factor, low, high, orig);
            }
            default:
                throw new LoroException(source + ": rope_scaling type '" + type
                        + "' is not supported (allowed: default, linear, llama3)");
        }
    }

    // ------------------------------------------------------------------ writing

    /** The config as transformers writes it (4.x spelling, readable by 4.x and 5.x). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(architecture);
        o.put("model_type", architecture.startsWith("Mistral") ? "mistral" : architecture.startsWith("Qwen2") ? "qwen2" : "llama");
        if (isSequenceClassifier()) {
            ObjectNode id2label = o.putObject("id2label");
            ObjectNode label2id = o.putObject("label2id");
            for (int i = 0; i < numLabels; i++) {
                id2label.put(String.valueOf(i), "LABEL_" + i);
                label2id.put("LABEL_" + i, i);
            }
        }
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (ropeScaling.type().equals("default")) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type());
            r.put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor());
                r.put("high_freq_factor", ropeScaling.highFreqFactor());
                r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        if (!architecture.startsWith("Qwen2")) {
            o.put("attention_bias", qkvBias);
        }
        o.put("attention_dropout", 0.0);
        o.put("mlp_bias", mlpBias);
        o.put("initializer_range", initializerRange);
        if (bosTokenId != null) {
            o.put("bos_token_id", bosTokenId);
        }
        if (eosTokenIds.size() == 1) {
            o.put("eos_token_id", eosTokenIds.get(0));
        } else if (!eosTokenIds.isEmpty()) {
            ArrayNode a = o.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        if (padTokenId != null) {
            o.put("pad_token_id", padTokenId);
        }
        if (slidingWindow > 0) {
            o.put("sliding_window", slidingWindow);
            if (architecture.startsWith("Qwen2")) {
                o.put("use_sliding_window", true);
            }
        }
        o.put("torch_dtype", "float32"); // overwritten by toJsonString(dtype) with what the weights hold
        o.put("use_cache", true);
        return o;
    }

    public String toJsonString() {
        return toJsonString("F32");
    }

    /** config.json text for weights stored as the given safetensors dtype ("F32", "F16", "BF16"). */
    public String toJsonString(String storageDtype) {
        ObjectNode o = toJson();
        o.put("torch_dtype", switch (storageDtype) {
            case "F16" -> "float16";
            case "BF16" -> "bfloat16";
            default -> "float32";
        });
        try {
            return JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public LlamaConfig withPadTokenId(Long pad) {
        return new LlamaConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers,
                numAttentionHeads, numKeyValueHeads, headDim, rmsNormEps, ropeTheta, ropeScaling,
                maxPositionEmbeddings, tieWordEmbeddings, qkvBias, oBias, mlpBias, bosTokenId, eosTokenIds, pad,
                slidingWindow, initializerRange, numLabels);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Typed access to JSON fields with one-line errors that name the file and key. */
private static String architecture(JsonNode node, String source) {
        JsonNode a = node.get("architectures");
        String arch;
        if (a == null || a.isNull()) {
            String type = node.path("model_type").asText("");
            arch = switch (type) {
                case "llama" -> "LlamaForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                case "qwen2" -> "Qwen2ForCausalLM";
                default -> throw new LoroException(source + ": missing 'architectures' (allowed: " + ARCHITECTURES + ")");
            };
        } else if (a.isArray() && a.size() >= 1 && a.get(0).isTextual()) {
            arch = a.get(0).asText();
        } else {
            throw new LoroException(source + ": 'architectures' must be a list of class names");
        }
        if (!ARCHITECTURES.contains(arch)) {
            throw new LoroException(source + ": architecture '" + arch + "' is not supported (allowed: "
                    + String.join(", ", ARCHITECTURES) + ")");
        }
        return arch;
    }
}
