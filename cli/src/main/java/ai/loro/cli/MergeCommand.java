package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.lora.Merge;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loro merge}: base + LoRA adapter → a full Hugging Face checkpoint (W + scale·B·A). */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a PEFT LoRA adapter into its base model and write a full Hugging Face checkpoint"
                + " (config.json, safetensors, tokenizer files copied).")
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME",
            description = "Base model folder, or a Hub id org/name[@revision] in the local Hugging Face cache.") Path model;
    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "PEFT adapter folder.") Path adapter;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist or be empty).") Path out;
    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", description = "Stored dtype (default: the base model's torch_dtype, else F32).")
    String dtype;

    @Override
    public Integer call() {
        if (dtype != null && !List.of("F32", "F16", "BF16").contains(dtype)) {
            throw new LoroException("--dtype must be F32, F16 or BF16, got " + dtype);
        }
        model = ModelOptions.resolveModel("--model", model);
        if (dtype == null) {
            Merge.mergeToCheckpoint(model, adapter, out);
        } else {
            Merge.mergeToCheckpoint(model, adapter, out, dtype);
        }
        System.out.println("wrote merged model " + out);
        return 0;
    }
}
