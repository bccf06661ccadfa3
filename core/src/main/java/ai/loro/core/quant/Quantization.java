package ai.loro.core.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeEnum;
import java.io.PrintStream;
import java.util.Locale;

/** Quantized frozen bases (QLoRA-style): the modes, and the one call a stage makes after loading its model. */
public final class Quantization {
    private Quantization() {}

    /** {@code quantize:} in a recipe. NF4 always uses QLoRA's double quantization of the block scales. */
    public enum Mode implements RecipeEnum {
        NONE, INT8, NF4;

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.yamlName().equalsIgnoreCase(s.trim())) {
                    return m;
                }
            }
            throw new LoroException("quantize: unknown mode '" + s + "' (allowed: " + java.util.Arrays.stream(values())
                    .map(Mode::yamlName).collect(java.util.stream.Collectors.joining(", ")) + ")");
        }
    }

    /** Quantizes {@code w} in the given mode onto {@code store} (w is left as is); null for NONE. */
    public static QuantizedWeight quantize(NDArray w, Mode mode, NDManager store) {
        return switch (mode) {
            case NONE -> null;
            case INT8 -> Int8Weights.quantize(w, store);
            case NF4 -> Nf4Weights.quantize(w, store, true);
        };
    }

    /**
     * Applies the recipe's {@code quantize} to a freshly loaded model (before any adapter attaches)
     * and logs the storage. A quantized base cannot be trained in full: that is an error.
     */
    public static void apply(LlamaModel model, Recipe r, PrintStream log) {
        Mode mode = r.quantize();
        if (mode == Mode.NONE) {
            return;
        }
        if (r.adapter().type() != Recipe.AdapterType.LORA) {
            throw new LoroException("quantize: " + mode.yamlName() + " freezes the base in " + mode.yamlName()
                    + "; it needs adapter.type: lora (a quantized base cannot be fine-tuned in full)");
        }
        QuantizedBase.QuantStats s = QuantizedBase.quantize(model, mode.yamlName());
        log.printf(Locale.ROOT, "quantized %d projections to %s: %,d parameters in %,d bytes (%.3f bytes/parameter; fp32 was %,d)%n",
                s.projections(), mode.yamlName(), s.parameters(), s.bytes(), s.bytes() / (double) s.parameters(),
                4L * s.parameters());
    }
}
