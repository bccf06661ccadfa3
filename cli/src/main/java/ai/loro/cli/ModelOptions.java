package ai.loro.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.lora.Peft;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model DIR}: a Hugging Face model directory, with its tokenizer when present. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model folder (config.json, *.safetensors, tokenizer files).")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) applied over the model.")
    Path adapter;

    /** The model, with the adapter attached when {@code --adapter} is given (it lives as long as the model). */
    LlamaModel load() {
        if (!Files.isDirectory(model)) {
            throw new LoroException(model + ": not a folder (--model takes a Hugging Face model directory)");
        }
        LlamaModel m = LlamaModel.load(model, DataType.FLOAT32, Device.cpu());
        return adapter != null ? withAdapter(m, adapter) : m;
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
        return Files.isRegularFile(model.resolve("tokenizer.json"));
    }

    /** The model's tokenizer; {@code why} says what needs it, for the error message. */
    LoroTokenizer tokenizer(String why) {
        if (!hasTokenizer()) {
            throw new LoroException(model + ": no tokenizer.json, needed for " + why);
        }
        return LoroTokenizer.load(model);
    }
}
