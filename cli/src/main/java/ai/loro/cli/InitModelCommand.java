package ai.loro.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loro init-model}: a random-initialised Hugging Face checkpoint of any Llama-class shape. */
@Command(name = "init-model", mixinStandardHelpOptions = true,
        description = {"Write a random-initialised Hugging Face checkpoint (config.json + safetensors) of the shape in"
                + " CONFIG.json, initialised as transformers does (normal(0, initializer_range), norms 1).",
            "With --tokenizer, its tokenizer files are copied beside the weights."})
final class InitModelCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "CONFIG.json", description = "A config.json (LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM).")
    Path config;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist or be empty).")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Folder with tokenizer.json (+ tokenizer_config.json).")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "0", description = "Initialisation seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", defaultValue = "F32", description = "Stored dtype: F32, F16 or BF16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() {
        if (!java.util.List.of("F32", "F16", "BF16").contains(dtype)) {
            throw new LoroException("--dtype must be F32, F16 or BF16, got " + dtype);
        }
        LlamaConfig c = LlamaConfig.read(config);
        if (tokenizer != null) {
            try (LoroTokenizer tok = LoroTokenizer.load(tokenizer)) {
                if (tok.vocabSize() > c.vocabSize()) {
                    throw new LoroException(config + ": vocab_size " + c.vocabSize() + " is smaller than the tokenizer's "
                            + tok.vocabSize() + " tokens (" + tokenizer + ")");
                }
            }
        }
        write(c, out, tokenizer, seed, dtype);
        System.out.printf("wrote %s: %s, %,d parameters, %s%n", out, c.architecture(), c.parameterCount(), dtype);
        return 0;
    }

    static void write(LlamaConfig c, Path out, Path tokenizerDir, long seed, String dtype) {
        try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, seed), DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(out, c, model.parameters(), dtype, tokenizerDir);
        }
        if (!Files.isRegularFile(out.resolve("config.json"))) {
            throw new LoroException(out + ": model was not written");
        }
    }
}
