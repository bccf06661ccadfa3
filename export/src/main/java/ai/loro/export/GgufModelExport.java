package ai.loro.export;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.Rope;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Merge;
import ai.loro.lora.Peft;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code loro export gguf}: a Hugging Face checkpoint (optionally with a PEFT adapter merged into its
 * full-precision weights) as one llama.cpp model file (docs/gguf.md). Norms, biases and rope_freqs stay
 * F32; every matrix takes the chosen type (Q8_0 falls back to F16 for rows not divisible by 32).
 */
public final class GgufModelExport {
    private GgufModelExport() {}

    /** What was written: the file, its size, the architecture and the tensor count. */
    public record Result(Path file, long bytes, String architecture, int tensors, GgmlType type) {}

    public static Result export(Path modelDir, Path adapterDir, Path out, GgmlType type) {
        LlamaConfig c = LlamaConfig.read(modelDir);
        String arch = GgufNames.architecture(c, modelDir.resolve("config.json").toString());
        GgufWriter w = new GgufWriter();
        String name = modelDir.toAbsolutePath().normalize().getFileName().toString();
        writeMetadata(w, c, arch, name, type);
        // the tokenizer is checked before any weight is read; tensors are read while the file is written
        GgufTokenizer.write(w, modelDir, c.vocabSize());
        try (LlamaModel model = LlamaModel.load(modelDir, DataType.FLOAT32, Device.cpu());
             NDManager merged = model.manager().newSubManager()) {
            Map<String, NDArray> weights;
            if (adapterDir != null) {
                try (LoraAdapter adapter = Peft.load(adapterDir, model)) {
                    weights = Merge.mergedWeights(model, adapter, merged);
                }
            } else {
                weights = model.parameters();
            }
            int count = addTensors(w, c, arch, weights, type);
            long size = w.write(out);
            return new Result(out, size, arch, count, type);
        }
    }

    static void writeMetadata(GgufWriter w, LlamaConfig c, String arch, String name, GgmlType type) {
        w.putString("general.architecture", arch);
        w.putString("general.type", "model");
        w.putString("general.name", name);
        w.putU32("general.file_type", switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 7;
        });
        w.putU32("general.quantization_version", 2);
        w.putU32("general.alignment", GgufWriter.ALIGNMENT);
        // Loro refuses sequences past a sliding window; llama.cpp's llama/qwen2 attend fully, so the
        // context the file promises stops at the window, where both compute the same thing
        int context = c.slidingWindow() > 0 ? Math.min(c.slidingWindow(), c.maxPositionEmbeddings()) : c.maxPositionEmbeddings();
        w.putU32(arch + ".context_length", context);
        w.putU32(arch + ".embedding_length", c.hiddenSize());
        w.putU32(arch + ".block_count", c.numHiddenLayers());
        w.putU32(arch + ".feed_forward_length", c.intermediateSize());
        w.putU32(arch + ".attention.head_count", c.numAttentionHeads());
        w.putU32(arch + ".attention.head_count_kv", c.numKeyValueHeads());
        w.putF32(arch + ".rope.freq_base", c.ropeTheta());
        w.putF32(arch + ".attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putU32(arch + ".rope.dimension_count", c.headDim());
        w.putU32(arch + ".attention.key_length", c.headDim());
        w.putU32(arch + ".attention.value_length", c.headDim());
        w.putU32(arch + ".vocab_size", c.vocabSize());
        LlamaConfig.RopeScaling s = c.ropeScaling();
        switch (s.type()) {
            case "default" -> { }
            case "linear" -> {
                w.putString(arch + ".rope.scaling.type", "linear");
                w.putF32(arch + ".rope.scaling.factor", s.factor());
            }
            case "llama3" -> { } // expressed by the rope_freqs tensor
            default -> throw new LoroException("rope_scaling type '" + s.type() + "' has no GGUF export (default, linear, llama3)");
        }
    }

    static int addTensors(GgufWriter w, LlamaConfig c, String arch, Map<String, NDArray> weights, GgmlType type) {
        int count = 0;
        if (c.ropeScaling().type().equals("llama3")) {
            float[] divisors = ropeFreqDivisors(c);
            w.addTensor("rope_freqs.weight", new long[] {divisors.length}, GgmlType.F32,
                    () -> GgmlType.F32.encode(divisors, "rope_freqs.weight"));
            count++;
        }
        for (Map.Entry<String, long[]> e : HfNames.expectedTensors(c).entrySet()) {
            String hf = e.getKey();
            long[] shape = e.getValue();
            NDArray array = weights.get(hf);
            if (array == null) {
                throw new LoroException("tensor " + hf + " missing from the model");
            }
            String gguf = GgufNames.of(hf);
            boolean matrix = shape.length == 2;
            GgmlType t = matrix ? type.forRowLength(shape[1]) : GgmlType.F32;
            int heads = GgufNames.permutedHeads(arch, hf, c);
            int rows = (int) shape[0];
            int cols = matrix ? (int) shape[1] : 1;
            w.addTensor(gguf, shape, t, () -> t.encode(GgufNames.permuteRows(array.toFloatArray(), heads, rows, cols), hf));
            count++;
        }
        return count;
    }

    /**
     * llama.cpp's rope_freqs for llama3 scaling: one divisor per frequency, so that its
     * {@code base^(-2i/d) / divisor} equals transformers' scaled inverse frequency.
     */
    static float[] ropeFreqDivisors(LlamaConfig c) {
        double[] scaled = Rope.invFreq(c, false);
        LlamaConfig plain = new LlamaConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(),
                LlamaConfig.RopeScaling.NONE, c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.qkvBias(), c.oBias(),
                c.mlpBias(), c.bosTokenId(), c.eosTokenIds(), c.padTokenId(), c.slidingWindow(), c.initializerRange(),
                c.numLabels());
        double[] base = Rope.invFreq(plain, false);
        float[] out = new float[scaled.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (base[i] / scaled[i]);
        }
        return out;
    }
}
