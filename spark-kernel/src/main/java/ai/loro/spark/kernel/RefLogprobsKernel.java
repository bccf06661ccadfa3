package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import ai.loro.core.model.BatchScoring;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.EncodedPair;
import ai.loro.datasets.Templates;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * DPO's reference log-probs of preference pairs ({@code prompt, chosen, rejected}), encoded as the DPO stage encodes
 * them (chat template, {@code sequence_len}): {@code ref_chosen_logps} / {@code ref_rejected_logps} are the summed
 * log-probs of each response's tokens under {@code model}, beside the token rows they belong to
 * ({@code chosen_input_ids}, {@code rejected_input_ids}), which is how the DPO stage finds them
 * ({@code dpo.reference_log_probs}).
 */
public record RefLogprobsKernel(String input, String model, String template, int sequenceLen, int batchSize)
        implements Kernel {
    public RefLogprobsKernel {
        Kernel.atLeastOne("--batch-size", batchSize);
        Kernel.atLeastOne("--sequence-len", sequenceLen);
    }

    @Override
    public List<Field> fields() {
        return List.of(new Field("chosen_input_ids", Field.Type.LONG_ARRAY), new Field("rejected_input_ids", Field.Type.LONG_ARRAY),
                new Field("ref_chosen_logps", Field.Type.DOUBLE), new Field("ref_rejected_logps", Field.Type.DOUBLE));
    }

    @Override
    public List<ObjectNode> process(List<InputRow> batch) {
        LlamaModel m = ModelCache.causalLm(model, null);
        LoroTokenizer tok = ModelCache.tokenizer(model, "encoding pairs");
        ChatTemplate chat = Templates.resolve(template, tok);
        List<ObjectNode> out = new ArrayList<>();
        List<EncodedPair> pairs = new ArrayList<>();
        List<long[]> rows = new ArrayList<>();
        for (InputRow r : batch) {
            String where = Inputs.where(input, r);
            ObjectNode j = Inputs.parse(input, r);
            if (!j.has("chosen") || !j.has("rejected")) {
                throw new LoroException(where + ": needs a preference pair (\"prompt\", \"chosen\", \"rejected\")");
            }
            EncodedPair e = ScoreKernel.encodePair(tok, chat, input, j, r, sequenceLen);
            pairs.add(e);
            out.add(Inputs.output(j, r.row()));
        }
        pairs.forEach(e -> rows.add(e.chosenIds()));
        pairs.forEach(e -> rows.add(e.rejectedIds()));
        List<float[]> lp = BatchScoring.tokenLogProbs(m, rows);
        int p = pairs.size();
        for (int i = 0; i < p; i++) {
            EncodedPair e = pairs.get(i);
            ObjectNode o = out.get(i);
            ids(o.putArray("chosen_input_ids"), e.chosenIds());
            ids(o.putArray("rejected_input_ids"), e.rejectedIds());
            o.put("ref_chosen_logps", responseSum(lp.get(i), e.chosenMask()));
            o.put("ref_rejected_logps", responseSum(lp.get(p + i), e.rejectedMask()));
        }
        return out;
    }

    /** {@code Σ_t lp[t]} over the positions whose next token is a response token ({@code mask[t+1]}), in fp32. */
    static double responseSum(float[] lp, boolean[] mask) {
        float sum = 0;
        for (int t = 0; t < lp.length; t++) {
            if (mask[t + 1]) {
                sum += lp[t];
            }
        }
        return sum;
    }

    private static void ids(ArrayNode a, long[] ids) {
        for (long id : ids) {
            a.add(id);
        }
    }
}
