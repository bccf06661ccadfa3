package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.export.GgmlType;
import ai.loro.export.GgufLoraExport;
import ai.loro.export.GgufModelExport;
import ai.loro.export.OllamaExport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loro export}: files serving engines load as they are (llama.cpp GGUF, Ollama folders). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export for serving engines: a llama.cpp GGUF model, a llama.cpp GGUF LoRA adapter, an Ollama folder.",
        subcommands = {ExportCommand.Gguf.class, ExportCommand.GgufLora.class, ExportCommand.Ollama.class})
final class ExportCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static Path existingDir(Path p, String option) {
        if (p != null && !Files.isDirectory(p)) {
            throw new LoroException(p + ": not a folder (" + option + " takes a folder)");
        }
        return p;
    }

    @Command(name = "gguf", mixinStandardHelpOptions = true,
            description = "A llama.cpp model file: config, weights (the adapter merged first when given) and the tokenizer"
                    + " with its chat template and stop tokens.")
    static final class Gguf implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder (or a Hub id in the local cache).") Path model;
        @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter merged into the weights first.") Path adapter;
        @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "Output file.") Path out;
        @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|q8_0",
                description = "Type of the matrices (norms, biases stay f32; q8_0 needs rows divisible by 32, else f16). Default f32.")
        String dtype;

        @Override
        public Integer call() {
            GgmlType type = GgmlType.parse(dtype, "--dtype", true);
            GgufModelExport.Result r = GgufModelExport.export(existingDir(ModelOptions.resolveModel("--model", model), "--model"), existingDir(adapter, "--adapter"), out, type);
            System.out.printf("wrote %s (%s, %d tensors, %s, %.1f MB)%n", r.file(), r.architecture(), r.tensors(),
                    r.type().name().toLowerCase(java.util.Locale.ROOT), r.bytes() / 1e6);
            return 0;
        }
    }

    @Command(name = "gguf-lora", mixinStandardHelpOptions = true,
            description = "A llama.cpp LoRA adapter file (llama-cli --lora FILE) for the base it was trained on.")
    static final class GgufLora implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "BASE", description = "The base model folder the adapter was trained on.") Path model;
        @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "PEFT LoRA adapter folder.") Path adapter;
        @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "Output file.") Path out;
        @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16", description = "Type of lora_a / lora_b. Default f32.")
        String dtype;

        @Override
        public Integer call() {
            GgmlType type = GgmlType.parse(dtype, "--dtype", false);
            GgufLoraExport.Result r = GgufLoraExport.export(existingDir(ModelOptions.resolveModel("--model", model), "--model"), existingDir(adapter, "--adapter"), out, type);
            System.out.printf("wrote %s (%d modules, adapter.lora.alpha %s, %s, %.1f MB)%n", r.file(), r.modules(), r.alpha(),
                    r.type().name().toLowerCase(java.util.Locale.ROOT), r.bytes() / 1e6);
            return 0;
        }
    }

    @Command(name = "ollama", mixinStandardHelpOptions = true,
            description = "A folder for 'ollama create NAME -f DIR/Modelfile': model.gguf (+ adapter.gguf), a TEMPLATE for the"
                    + " model's chat format (Llama 3 or ChatML), a stop line per end-of-turn token, the system prompt.")
    static final class Ollama implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder (or a Hub id in the local cache).") Path model;
        @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter: written as adapter.gguf (ADAPTER), or merged with --merge.") Path adapter;
        @Option(names = "--merge", description = "Merge the adapter into model.gguf instead of writing adapter.gguf.") boolean merge;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist or be empty).") Path out;
        @Option(names = "--dtype", defaultValue = "f16", paramLabel = "f32|f16|q8_0", description = "Type of model.gguf's matrices. Default f16.")
        String dtype;
        @Option(names = "--system", paramLabel = "TEXT", description = "System prompt (the Modelfile's SYSTEM).") String system;

        @Override
        public Integer call() {
            GgmlType type = GgmlType.parse(dtype, "--dtype", true);
            OllamaExport.Result r = OllamaExport.export(existingDir(ModelOptions.resolveModel("--model", model), "--model"), existingDir(adapter, "--adapter"), out, type, merge, system);
            System.out.printf("wrote %s (%s template, stops %s%s); run: ollama create NAME -f %s%n", r.dir(), r.format(), r.stops(),
                    r.merged() ? ", adapter merged" : adapter != null ? ", adapter.gguf" : "", r.dir().resolve(OllamaExport.MODELFILE));
            return 0;
        }
    }
}
