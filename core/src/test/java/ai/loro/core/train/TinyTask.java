package ai.loro.core.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Random;

/**
 * A tiny causal-LM fine-tuning task for loop tests: a tiny Llama, a data set of right-padded
 * sequences that count upwards mod the vocabulary (learnable), shuffled per epoch from (seed,
 * epoch), and an SFT loss summed over real target tokens, optionally weighted by random per-token
 * factors drawn from the engine's generator (to check that resumes replay random draws).
 */
final class TinyTask {
    static final int T = 8;
    static final LlamaConfig CONFIG = TinyConfigs.gqa();

    final long[][] ids;
    final int[] lengths;
    final Cursor cursor;
    final int batch;
    final boolean randomWeights;

    TinyTask(int sequences, int batch, long dataSeed, boolean randomWeights) {
        Random r = new Random(dataSeed);
        ids = new long[sequences][T];
        lengths = new int[sequences];
        for (int s = 0; s < sequences; s++) {
            int start = r.nextInt(CONFIG.vocabSize());
            lengths[s] = 3 + r.nextInt(T - 2); // 3..T real tokens, then right padding (id 0)
            for (int t = 0; t < lengths[s]; t++) {
                ids[s][t] = (start + t) % CONFIG.vocabSize();
            }
        }
        this.cursor = new Cursor(sequences, dataSeed);
        this.batch = batch;
        this.randomWeights = randomWeights;
    }

    static LlamaModel model(DataType dtype) {
        return LlamaModel.fromHost(CONFIG, ModelInit.randomWeights(CONFIG, 3), dtype, Device.cpu());
    }

    /** The SFT loss of the next {@code batch} sequences from the cursor. */
    MicroBatchLoss loss(LlamaModel model) {
        return (mb, step, micro) -> {
            int[] rows = new int[batch];
            for (int b = 0; b < batch; b++) {
                rows[b] = cursor.next();
            }
            return lossOf(model, mb, rows);
        };
    }

    MicroBatchLoss.Result lossOf(LlamaModel model, NDManager mb, int... rows) {
        long[] flat = new long[rows.length * T];
        long[] mask = new long[rows.length * T];
        long tokens = 0;
        for (int b = 0; b < rows.length; b++) {
            for (int t = 0; t < T; t++) {
                flat[b * T + t] = ids[rows[b]][t];
                mask[b * T + t] = t < lengths[rows[b]] ? 1 : 0;
            }
            tokens += lengths[rows[b]] - 1;
        }
        NDArray idA = mb.create(flat, new Shape(rows.length, T));
        NDArray maskA = mb.create(mask, new Shape(rows.length, T));
        NDArray lp = model.tokenLogProbs(idA, maskA); // (B, T-1)
        NDArray w = maskA.get(new NDIndex(":, 1:")).toType(lp.getDataType(), false);
        if (randomWeights) {
            w = w.mul(mb.randomUniform(0.5f, 1.5f, w.getShape(), lp.getDataType()));
        }
        return new MicroBatchLoss.Result(lp.mul(w).sum().neg(), tokens);
    }

    /** Epoch and index into a per-epoch shuffled order. */
    static final class Cursor implements DataCursor {
        private final int n;
        private final long seed;
        private int epoch;
        private int index;
        private int[] order;

        Cursor(int n, long seed) {
            this.n = n;
            this.seed = seed;
            this.order = shuffle(0);
        }

        private int[] shuffle(int e) {
            int[] o = new int[n];
            for (int i = 0; i < n; i++) {
                o[i] = i;
            }
            Random r = new Random(seed * 31 + e);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int tmp = o[i];
                o[i] = o[j];
                o[j] = tmp;
            }
            return o;
        }

        int next() {
            if (index == n) {
                epoch++;
                index = 0;
                order = shuffle(epoch);
            }
            return order[index++];
        }

        @Override
        public JsonNode position() {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("epoch", epoch);
            o.put("index", index);
            return o;
        }

        @Override
        public void seek(JsonNode position) {
            epoch = position.get("epoch").asInt();
            index = position.get("index").asInt();
            order = shuffle(epoch);
        }

        @Override
        public double epoch() {
            return epoch + (double) index / n;
        }
    }
}
