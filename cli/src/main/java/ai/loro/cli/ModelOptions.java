package ai.loro.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.io.HubCache;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.lora.Peft;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --model DIR}: a Hugging Face model directory, with its tokenizer when present, or a Hub id found in the
 * local Hugging Face cache (docs/hub-cache.md).
 */
final class ModelOptions {
    /** The --model description every command shares. */
    static final String MODEL_HELP = "Hugging Face model folder (config.json, *.safetensors, tokenizer files), or a Hub id"
            + " org/name[@revision] already in the local Hugging Face cache.";

    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", description = MODEL_HELP)
    Path model;

    private Path resolved;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) applied over the model.")
    Path adapter;

    /** The model, with the adapter attached when {@code --adapter} is given (it lives as long as the model). */
    LlamaModel load() {
        Path dir = dir();
        if (!Files.isDirectory(dir)) {
            throw new LoroException(model + ": not a folder (--model takes a Hugging Face model directory or a Hub id"
                    + " org/name in the local Hugging Face cache)");
        }
        LlamaModel m = LlamaModel.load(dir, DataType.FLOAT32, Device.cpu());
        return adapter != null ? withAdapter(m, adapter) : m;
    }

    /** The model folder: {@code --model} as given, or its Hub cache snapshot. */
    Path dir() {
        if (resolved == null) {
            resolved = resolveModel("--model", model);
        }
        return resolved;
    }

    /**
     * {@code value} when it exists or cannot be a Hub id (the command's own checks then speak), else the snapshot
     * of the Hub id {@code org/name[@rev]} in the local Hugging Face cache; an absent Hub id is one line naming
     * {@code option}, every path tried and the download command.
     */
    static Path resolveModel(String option, Path value) {
        if (value == null || Files.exists(value) || HubCache.parseRepoId(value.toString()) == null) {
            return value;
        }
        try {
            return HubCache.resolve(value.toString());
        } catch (LoroException e) {
            throw new LoroException(option + " " + value + " is " + e.getMessage(), e);
        }
    }

    /** {@code m} with the PEFT adapter in {@code adapterDir} attached; {@code m} is closed when that fails. */
    static LlamaModel withAdapter(LlamaModel m, Path adapterDir) {
        try {
            Peft.load(adapterDir, m).attach(m);
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    boolean hasTokenizer() {
        return Files.isRegularFile(dir().resolve("tokenizer.json"));
    }

    /** The model's tokenizer; {@code why} says what needs it, for the error message. */
    LoroTokenizer tokenizer(String why) {
        if (!hasTokenizer()) {
            throw new LoroException(model + ": no tokenizer.json, needed for " + why);
        }
        return LoroTokenizer.load(dir());
    }
}
