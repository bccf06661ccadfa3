package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import ai.loro.core.model.BatchScoring;
import ai.loro.core.model.LlamaModel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code loro logprobs} as a kernel: each row's {@code input_ids} (or {@code text}, tokenized with special tokens)
 * and {@code logprobs[t] = log p(input_ids[t+1] | input_ids[0..t])}, fp32, {@code batchSize} rows per forward pass.
 */
public record LogprobsKernel(String input, String model, String adapter, int batchSize) implements Kernel {
    public LogprobsKernel {
        Kernel.atLeastOne("--batch-size", batchSize);
    }

    @Override
    public List<Field> fields() {
        return List.of(new Field("input_ids", Field.Type.LONG_ARRAY), new Field("logprobs", Field.Type.FLOAT_ARRAY));
    }

    @Override
    public List<ObjectNode> process(List<InputRow> batch) {
        LlamaModel m = ModelCache.causalLm(model, adapter);
        List<ObjectNode> out = new ArrayList<>();
        List<long[]> sequences = new ArrayList<>();
        for (InputRow r : batch) {
            String where = Inputs.where(input, r);
            ObjectNode json = Inputs.parse(input, r);
            long[] ids = Inputs.tokenIds(json, "input_ids", where);
            if (ids == null) {
                if (!json.path("text").isTextual()) {
                    throw new LoroException(where + ": needs \"input_ids\" (list of ints) or \"text\" (string)");
                }
                ids = ModelCache.tokenizer(model, "\"text\" inputs (" + where + ")").encode(json.get("text").asText(), true);
            }
            if (ids.length == 0) {
                throw new LoroException(where + ": empty sequence");
            }
            m.checkTokenIds(ids, where);
            sequences.add(ids);
            out.add(Inputs.output(json, r.row()));
        }
        List<float[]> logprobs = BatchScoring.tokenLogProbs(m, sequences);
        for (int i = 0; i < out.size(); i++) {
            ArrayNode ids = out.get(i).putArray("input_ids");
            for (long id : sequences.get(i)) {
                ids.add(id);
            }
            ArrayNode lps = out.get(i).putArray("logprobs");
            for (float lp : logprobs.get(i)) {
                lps.add(lp);
            }
        }
        return out;
    }
}
