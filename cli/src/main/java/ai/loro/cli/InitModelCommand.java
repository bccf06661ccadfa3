package ai.loro.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    @Option(names = "--tokenizer", paramLabel = "DIR|ORG/NAME", description = "Folder with tokenizer.json (+"
            + " tokenizer_config.json), or a Hub id org/name[@revision] in the local Hugging Face cache.")
    Path tokenizer;

    @Option(names = "--byte-tokenizer", paramLabel = "TEMPLATE",
            description = "Instead of --tokenizer: write Loro's byte-level tokenizer (256 bytes + 8 special tokens) with this"
                    + " built-in chat template (llama3, chatml, alpaca, llama2).")
    String byteTokenizer;

    @Option(names = "--seed", defaultValue = "0", description = "Initialisation seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", defaultValue = "F32", description = "Stored dtype: F32, F16 or BF16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() {
        if (!List.of("F32", "F16", "BF16").contains(dtype)) {
            throw new LoroException("--dtype must be F32, F16 or BF16, got " + dtype);
        }
        LlamaConfig c = LlamaConfig.read(config);
        if (byteTokenizer != null) {
            if (tokenizer != null) {
                throw new LoroException("give either --tokenizer or --byte-tokenizer, not both");
            }
            try {
                tokenizer = Files.createTempDirectory("loro-tokenizer");
            } catch (java.io.IOException e) {
                throw new LoroException("cannot create a temporary folder: " + e.getMessage());
            }
            TinyTokenizers.writeByteLevel(tokenizer, byteTokenizer);
        }
        if (tokenizer != null) {
            tokenizer = ModelOptions.resolveModel("--tokenizer", tokenizer);
            try (LoroTokenizer tok = LoroTokenizer.load(tokenizer)) {
                if (tok.vocabSize() > c.vocabSize()) {
                    throw new LoroException(config + ": vocab_size " + c.vocabSize() + " is smaller than the tokenizer's "
                            + tok.vocabSize() + " tokens (" + tokenizer + ")");
                }
            }
        }
        try {
            write(c, out, tokenizer, seed, dtype);
            List<String> names = labelNames(config, c);
            if (!names.isEmpty()) {
                ModelWriter.writeLabelNames(out, names);
            }
        } finally {
            if (byteTokenizer != null) {
                try (var files = Files.walk(tokenizer)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (java.io.IOException ignored) {
                    // a temporary folder; the system cleans it
                }
            }
        }
        System.out.printf("wrote %s: %s, %,d parameters, %s%n", out, c.architecture(), c.parameterCount(), dtype);
        return 0;
    }

    /** A classifier config's own id2label names (all of them, as strings), else none. */
    static List<String> labelNames(Path configFile, LlamaConfig c) {
        if (!c.isSequenceClassifier()) {
            return List.of();
        }
        try {
            var id2label = new com.fasterxml.jackson.databind.ObjectMapper().readTree(configFile.toFile()).path("id2label");
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < c.numLabels(); i++) {
                var v = id2label.get(String.valueOf(i));
                if (v == null || !v.isTextual()) {
                    return List.of();
                }
                names.add(v.asText());
            }
            return names;
        } catch (java.io.IOException e) {
            return List.of(); // LlamaConfig.read has read this file already; nothing to name
        }
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
