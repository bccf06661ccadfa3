package ai.loro.dpo;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import ai.loro.datasets.Batch;
import ai.loro.datasets.PreferenceBatch;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The cached reference log-probs (precompute_ref_log_probs) belong to the pair they were computed for. */
class RefLogProbsTest {
    static final LlamaConfig CONFIG = TinyConfigs.gqa();

    /** One pair from {@code pairs.jsonl:1} with a prompt of 2 tokens: chosen and rejected rows of 4 tokens. */
    static PreferenceBatch pair(long[] chosen, long[] rejected) {
        long[][] ids = {chosen, rejected};
        long[][] mask = {{1, 1, 1, 1}, {1, 1, 1, 1}};
        long[][] labels = {{-100, -100, chosen[2], chosen[3]}, {-100, -100, rejected[2], rejected[3]}};
        boolean[][] loss = {{false, false, true, true}, {false, false, true, true}};
        return new PreferenceBatch(new Batch(ids, mask, labels, loss, null, null), new int[] {2}, new Double[] {null},
                new String[] {"pairs.jsonl:1"});
    }

    static float[] refLogProbs(DpoStage.RefLogProbs ref, PreferenceBatch pb, NDManager m) {
        Batch b = pb.batch();
        NDArray ids = m.create(Batch.flat(b.inputIds()), new Shape(2, 4));
        NDArray mask = m.create(Batch.flat(b.attentionMask()), new Shape(2, 4));
        NDArray lossMask = m.create(b.nextTokenLossMask(), new Shape(2, 3));
        return ref.sequenceLogProbs(pb, ids, mask, lossMask).toFloatArray();
    }

    @Test
    void pairsWhoseRowsHashAlikeKeepTheirOwnReference() {
        // Arrays.hashCode folds h ↦ 31·h + x: (0, 31) and (1, 0) after the same prefix give the same hash
        long[] chosenA = {1, 5, 0, 31};
        long[] chosenB = {1, 5, 1, 0};
        long[] rejected = {1, 5, 7, 8};
        assertEquals(Arrays.hashCode(chosenA), Arrays.hashCode(chosenB));
        PreferenceBatch a = pair(chosenA, rejected);
        PreferenceBatch b = pair(chosenB, rejected);
        try (LlamaModel model = LlamaModel.fromHost(CONFIG, ModelInit.randomWeights(CONFIG, 3), DataType.FLOAT32, Device.cpu());
             NDManager m = model.manager().newSubManager()) {
            DpoStage.RefLogProbs cached = new DpoStage.RefLogProbs(model, model, true);
            float[] firstA = refLogProbs(cached, a, m);
            float[] expectedB = refLogProbs(new DpoStage.RefLogProbs(model, model, false), b, m);
            assertNotEquals(firstA[0], expectedB[0], "the two chosen responses must score differently for the test to mean anything");
            assertArrayEquals(expectedB, refLogProbs(cached, b, m), "pair B was given pair A's cached reference");
            assertArrayEquals(firstA, refLogProbs(cached, a, m));
        }
    }
}
