package ai.loro.cli;

import ai.loro.core.model.BatchScoring;
import ai.loro.core.LoroException;
import ai.loro.core.io.Jsonl;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code loro logprobs}: {@code logprobs[t] = log p(input_ids[t+1] | input_ids[0..t])} for each
 * input line, computed in fp32 (DESIGN.md contract).
 */
@Command(name = "logprobs", mixinStandardHelpOptions = true,
        description = {"Next-token log-probabilities of each input sequence.",
            "Each input line holds \"input_ids\" (a list of ints) or \"text\" (tokenized with the model's tokenizer,"
                + " special tokens added); each output line holds \"input_ids\" and \"logprobs\" (length n-1)."})
public final class LogprobsCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = "--input", required = true, paramLabel = "IN.jsonl", description = "Input JSON Lines file.")
    Path input;

    @Option(names = "--output", paramLabel = "OUT.jsonl", description = "Output file (default: standard output).")
    Path output;

    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Override
    public Integer call() throws IOException {
        if (batchSize < 1) {
            throw new LoroException("--batch-size must be >= 1, got " + batchSize);
        }
        List<Jsonl.Line> lines = Jsonl.read(input);
        try (LlamaModel model = modelOptions.load()) {
            List<long[]> sequences = tokenize(lines, model);
            try (OutputStream os = output == null ? System.out : Files.newOutputStream(output);
                 JsonGenerator json = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
                json.setPrettyPrinter(new MinimalPrettyPrinter("\n"));
                json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                for (int start = 0; start < sequences.size(); start += batchSize) {
                    List<long[]> batch = sequences.subList(start, Math.min(sequences.size(), start + batchSize));
                    List<float[]> logprobs = BatchScoring.tokenLogProbs(model, batch);
                    for (int i = 0; i < batch.size(); i++) {
                        json.writeStartObject();
                        json.writeArrayFieldStart("input_ids");
                        for (long id : batch.get(i)) {
                            json.writeNumber(id);
                        }
                        json.writeEndArray();
                        json.writeArrayFieldStart("logprobs");
                        for (float lp : logprobs.get(i)) {
                            json.writeNumber(lp);
                        }
                        json.writeEndArray();
                        json.writeEndObject();
                    }
                    json.flush();
                }
                json.writeRaw('\n');
            }
        }
        return 0;
    }

    private List<long[]> tokenize(List<Jsonl.Line> lines, LlamaModel model) {
        List<long[]> out = new ArrayList<>();
        LoroTokenizer tokenizer = null;
        try {
            for (Jsonl.Line line : lines) {
                long[] ids = Jsonl.tokenIds(line, "input_ids");
                if (ids == null) {
                    if (!line.json().path("text").isTextual()) {
                        throw new LoroException(line.where() + ": needs \"input_ids\" (list of ints) or \"text\" (string)");
                    }
                    if (tokenizer == null) {
                        tokenizer = modelOptions.tokenizer("\"text\" inputs (" + line.where() + ")");
                    }
                    ids = tokenizer.encode(line.json().get("text").asText(), true);
                }
                if (ids.length == 0) {
                    throw new LoroException(line.where() + ": empty sequence");
                }
                model.checkTokenIds(ids, line.where());
                out.add(ids);
            }
        } finally {
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
        return out;
    }
}
