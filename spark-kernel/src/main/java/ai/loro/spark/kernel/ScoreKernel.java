package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import ai.loro.core.model.BatchScoring;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.EncodeOptions;
import ai.loro.datasets.EncodedPair;
import ai.loro.datasets.PreferenceEncoder;
import ai.loro.datasets.PreferenceFormat;
import ai.loro.datasets.PreferencePair;
import ai.loro.datasets.Row;
import ai.loro.datasets.Templates;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code loro score} as a kernel: {@code text} (tokenized with special tokens), {@code messages} (the chat template)
 * or a pair {@code prompt, chosen, rejected} (encoded as in training) → {@code reward} (or {@code scores, label}
 * with several labels), or {@code reward_chosen, reward_rejected, chosen_preferred}.
 */
public record ScoreKernel(String input, String model, String adapter, String template, int sequenceLen, int batchSize)
        implements Kernel {
    public ScoreKernel {
        Kernel.atLeastOne("--batch-size", batchSize);
        Kernel.atLeastOne("--sequence-len", sequenceLen);
    }

    @Override
    public List<Field> fields() {
        return List.of(new Field("reward", Field.Type.DOUBLE), new Field("scores", Field.Type.DOUBLE_ARRAY),
                new Field("label", Field.Type.LONG), new Field("reward_chosen", Field.Type.DOUBLE),
                new Field("reward_rejected", Field.Type.DOUBLE), new Field("chosen_preferred", Field.Type.BOOLEAN));
    }

    @Override
    public List<ObjectNode> process(List<InputRow> batch) {
        LlamaModel rm = ModelCache.rewardModel(model, adapter);
        LoroTokenizer tok = ModelCache.tokenizer(model, "scoring");
        List<ObjectNode> out = new ArrayList<>();
        List<long[]> sequences = new ArrayList<>();
        List<Boolean> pairs = new ArrayList<>();
        ChatTemplate chat = null;
        for (InputRow r : batch) {
            String where = Inputs.where(input, r);
            ObjectNode j = Inputs.parse(input, r);
            if (j.has("chosen") || j.has("rejected")) {
                chat = chat != null ? chat : Templates.resolve(template, tok);
                EncodedPair e = encodePair(tok, chat, input, j, r, sequenceLen);
                sequences.add(e.chosenIds());
                sequences.add(e.rejectedIds());
                pairs.add(true);
            } else {
                long[] ids;
                if (j.has("messages")) {
                    chat = chat != null ? chat : Templates.resolve(template, tok);
                    ids = tok.encode(chat.render(Inputs.messages(j.get("messages"), where), false, tok.specialTokensMap()), false);
                } else if (j.path("text").isTextual()) {
                    ids = tok.encode(j.get("text").asText(), true);
                } else {
                    throw new LoroException(where + ": needs \"text\", \"messages\" or a pair (\"chosen\", \"rejected\")");
                }
                if (ids.length == 0) {
                    throw new LoroException(where + ": empty text");
                }
                rm.checkTokenIds(ids, where);
                sequences.add(ids);
                pairs.add(false);
            }
            out.add(Inputs.output(j, r.row()));
        }
        float[][] s = BatchScoring.classify(rm, sequences, Math.max(1, sequences.size()));
        int at = 0;
        for (int i = 0; i < out.size(); i++) {
            ObjectNode o = out.get(i);
            if (pairs.get(i)) {
                double c = s[at++][0];
                double rj = s[at++][0];
                o.put("reward_chosen", c).put("reward_rejected", rj).put("chosen_preferred", c > rj);
            } else {
                float[] v = s[at++];
                if (v.length == 1) {
                    o.put("reward", (double) v[0]);
                } else {
                    int best = 0;
                    ArrayNode scores = o.putArray("scores");
                    for (int k = 0; k < v.length; k++) {
                        scores.add((double) v[k]);
                        best = v[k] > v[best] ? k : best;
                    }
                    o.put("label", best);
                }
            }
        }
        return out;
    }

    /** A preference row encoded as {@code loro score} and reward training encode pairs; one that does not fit is an error. */
    static EncodedPair encodePair(LoroTokenizer tok, ChatTemplate chat, String input, ObjectNode j, InputRow r, int sequenceLen) {
        Row row = new Row(Path.of(input), r.row() + 1, "line", j);
        PreferencePair pair = PreferenceFormat.PREFERENCE.parse(row).get(0);
        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(sequenceLen).withTemplate(chat).withStrictBoundaries(false))
                .encode(pair);
        if (e == null) {
            throw new LoroException(Inputs.where(input, r) + ": the pair does not fit in --sequence-len " + sequenceLen);
        }
        return e;
    }
}
