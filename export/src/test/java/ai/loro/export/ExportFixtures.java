package ai.loro.export;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.TinyTokenizers;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.LoraConfig;
import ai.loro.lora.Peft;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Random models and adapters on disk, and Loro's own next-token log-probabilities over the whole vocabulary. */
final class ExportFixtures {
    private ExportFixtures() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A Llama config over Loro's byte-level tokenizer (264 tokens): hidden 64, 2 layers, 4 heads over 2 KV
     * heads (GQA), intermediate 128 (every row length a multiple of 32, so q8_0 covers every matrix).
     */
    static ObjectNode llamaConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("vocab_size", TinyTokenizers.VOCAB_SIZE);
        c.put("hidden_size", 64);
        c.put("intermediate_size", 128);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("max_position_embeddings", 8192);
        c.put("rms_norm_eps", 1e-5);
        c.put("tie_word_embeddings", true);
        c.put("bos_token_id", 256);
        c.put("eos_token_id", 257);
        c.put("initializer_range", 0.5);
        return c;
    }

    /** Llama 3.1's rope: theta 500000 with llama3 frequency scaling. */
    static ObjectNode withLlama3Rope(ObjectNode c) {
        c.put("rope_theta", 500000.0);
        ObjectNode s = c.putObject("rope_scaling");
        s.put("rope_type", "llama3");
        s.put("factor", 8.0);
        s.put("low_freq_factor", 1.0);
        s.put("high_freq_factor", 4.0);
        s.put("original_max_position_embeddings", 256); // small, so the fixed positions cross all three bands' rules
        return c;
    }

    /** A random model (weights as transformers initialises them) with the byte-level tokenizer and a built-in template. */
    static Path model(Path dir, ObjectNode config, String template, long seed) throws Exception {
        Path tok = Files.createTempDirectory("loro-export-tok");
        TinyTokenizers.writeByteLevel(tok, template);
        return model(dir, config, tok, seed);
    }

    /** A random model with the tokenizer files of {@code tokenizerDir}. */
    static Path model(Path dir, ObjectNode config, Path tokenizerDir, long seed) {
        LlamaConfig c = LlamaConfig.parse(config, "test config.json");
        Map<String, float[]> weights = ModelInit.randomWeights(c, seed);
        try (LlamaModel m = LlamaModel.fromHost(c, weights, DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(dir, c, m.parameters(), "F32", tokenizerDir);
        }
        return dir;
    }

    /** {@code model}'s weights stored as {@code dtype} (F16: rounded to half precision), with its tokenizer. */
    static Path roundedCopy(Path model, Path dir, String dtype) {
        try (LlamaModel m = LlamaModel.load(model, DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(dir, m.config(), m.parameters(), dtype, model);
        }
        return dir;
    }

    /** A PEFT adapter for {@code base} with random A and B (a trained adapter has B ≠ 0). */
    static Path adapter(Path base, Path dir, LoraConfig config, long seed) {
        try (LlamaModel m = LlamaModel.load(base, DataType.FLOAT32, Device.cpu());
             LoraAdapter a = LoraAdapter.create(m, config, seed)) {
            SplittableRandom rng = new SplittableRandom(seed);
            for (LoraAdapter.Module mod : a.modules().values()) {
                float[] b = new float[Math.toIntExact(mod.b().size())];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (rng.nextGaussian() * 0.3);
                }
                mod.b().set(FloatBuffer.wrap(b));
            }
            Peft.save(a, dir, base.toString(), "CAUSAL_LM");
        }
        return dir;
    }

    static LoraConfig lora(int r, double alpha, boolean rslora, Map<String, Integer> rankPattern) {
        return new LoraConfig(r, alpha, 0, rslora, List.of("all-linear"), rankPattern, Map.of(), "none", null);
    }

    /** Loro's log-softmax over the vocabulary after each prefix of {@code ids}: [T][V], fp32 as Loro computes. */
    static float[][] logProbs(Path model, Path adapter, long[] ids) {
        try (LlamaModel m = LlamaModel.load(model, DataType.FLOAT32, Device.cpu())) {
            if (adapter != null) {
                Peft.load(adapter, m).attach(m);
            }
            try (NDManager tmp = m.manager().newSubManager()) {
                NDArray input = tmp.create(ids, new Shape(1, ids.length));
                NDArray lp = m.forward(input, null, null).logSoftmax(-1);
                float[] flat = lp.toFloatArray();
                int v = m.config().vocabSize();
                float[][] out = new float[ids.length][v];
                for (int t = 0; t < ids.length; t++) {
                    System.arraycopy(flat, t * v, out[t], 0, v);
                }
                return out;
            }
        }
    }
}
