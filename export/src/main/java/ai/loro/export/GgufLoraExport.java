package ai.loro.export;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.LoraConfig;
import ai.loro.lora.Peft;
import java.nio.file.Path;

/**
 * {@code loro export gguf-lora}: a PEFT LoRA adapter as llama.cpp's adapter GGUF (docs/gguf.md,
 * "LoRA adapters"). Tensors {@code <gguf name>.lora_a} / {@code .lora_b} hold A [r, in] and B [out, r]
 * as PEFT stores them (GGUF dims reversed, bytes unchanged); B's rows of q/k are permuted like the base.
 * llama.cpp scales each pair by {@code adapter.lora.alpha / rank}, rank read from the tensor, so one alpha
 * serves every module: PEFT's {@code alpha / r} is written as alpha, rsLoRA's {@code alpha / √r} as
 * {@code alpha·√r} (only when every module has the same rank). What one alpha cannot express is refused.
 */
public final class GgufLoraExport {
    private GgufLoraExport() {}

    public record Result(Path file, long bytes, int modules, double alpha, GgmlType type) {}

    public static Result export(Path baseDir, Path adapterDir, Path out, GgmlType type) {
        if (type == GgmlType.Q8_0) {
            throw new LoroException("--dtype must be f32 or f16 for a LoRA adapter");
        }
        LlamaConfig c = LlamaConfig.read(baseDir);
        String arch = GgufNames.architecture(c, baseDir.resolve("config.json").toString());
        Path cfgFile = adapterDir.resolve(Peft.CONFIG_FILE);
        LoraConfig lc = Peft.readConfig(adapterDir);
        refuseModulesToSave(cfgFile);
        if (!lc.alphaPattern().isEmpty()) {
            throw new LoroException(cfgFile + ": alpha_pattern " + lc.alphaPattern() + " gives modules their own lora_alpha;"
                    + " llama.cpp's LoRA GGUF has one adapter.lora.alpha for all of them (merge instead: loro export gguf --adapter)");
        }
        try (LlamaModel model = LlamaModel.load(baseDir, DataType.FLOAT32, Device.cpu());
             LoraAdapter adapter = Peft.load(adapterDir, model)) {
            if (model.config().isSequenceClassifier()) {
                throw new LoroException(cfgFile + ": modules_to_save (a score head) cannot be expressed in a llama.cpp LoRA GGUF");
            }
            double alpha = alphaFor(lc, adapter, cfgFile);
            GgufWriter w = new GgufWriter();
            w.putString("general.architecture", arch);
            w.putString("general.type", "adapter");
            w.putString("general.name", adapterDir.toAbsolutePath().normalize().getFileName().toString());
            w.putString("adapter.type", "lora");
            w.putF32("adapter.lora.alpha", alpha);
            w.putU32("general.alignment", GgufWriter.ALIGNMENT);
            int count = 0;
            for (LoraAdapter.Module m : adapter.modules().values()) {
                String base = GgufNames.weight(m.layer(), m.proj());
                int heads = GgufNames.permutedHeads(arch, HfNames.weight(m.layer(), m.proj()), c);
                long[] aShape = m.a().getShape().getShape();
                long[] bShape = m.b().getShape().getShape();
                float[] a = m.a().toFloatArray();
                float[] b = GgufNames.permuteRows(m.b().toFloatArray(), heads, (int) bShape[0], (int) bShape[1]);
                // lora_a rows are r values long, lora_b rows r too: no block quantization, f16 or f32 only
                w.addTensor(base + ".lora_a", aShape, type, () -> type.encode(a, m.keyA()));
                w.addTensor(base + ".lora_b", bShape, type, () -> type.encode(b, m.keyB()));
                count++;
            }
            long size = w.write(out);
            return new Result(out, size, count, alpha, type);
        }
    }

    /** Whole modules saved beside the LoRA pairs (a score head) have no place in llama.cpp's adapter file. */
    static void refuseModulesToSave(Path cfgFile) {
        try {
            com.fasterxml.jackson.databind.JsonNode mts = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(cfgFile.toFile()).get("modules_to_save");
            if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
                throw new LoroException(cfgFile + ": modules_to_save " + mts + " saves whole modules (a score head);"
                        + " llama.cpp's LoRA GGUF holds only lora_a/lora_b pairs, and llama.cpp has no score head");
            }
        } catch (java.io.IOException e) {
            throw new LoroException(cfgFile + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The one alpha llama.cpp divides by each tensor's rank to give every module PEFT's scale. */
    static double alphaFor(LoraConfig lc, LoraAdapter adapter, Path cfgFile) {
        if (!lc.useRslora()) {
            return lc.alpha();
        }
        Integer rank = null;
        for (LoraAdapter.Module m : adapter.modules().values()) {
            if (rank != null && m.rank() != rank) {
                throw new LoroException(cfgFile + ": use_rslora with rank_pattern (ranks " + rank + " and " + m.rank()
                        + ") needs a different alpha·√r per module; llama.cpp's LoRA GGUF has one adapter.lora.alpha"
                        + " (merge instead: loro export gguf --adapter)");
            }
            rank = m.rank();
        }
        return lc.alpha() * Math.sqrt(rank == null ? lc.r() : rank);
    }
}
