package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import java.util.Map;

/**
 * GRPO's mini-batch loss over one scored generation batch: the policy's log-probs of the
 * mini-batch's rows now, against the old ones (or its own, detached, when on-policy) and the
 * reference's, with the completions' advantages ({@link GrpoLoss}). Also logs the policy's mean
 * per-token {@code entropy} over the completion tokens.
 */
public final class GrpoObjective implements PolicyUpdate.Objective {
    private final LlamaModel policy;
    private final GrpoConfig cfg;
    private final GrpoBatch batch;
    private final GrpoLoss.Config loss;

    public GrpoObjective(LlamaModel policy, GrpoConfig cfg, GrpoBatch batch) {
        this.policy = policy;
        this.cfg = cfg;
        this.batch = batch;
        this.loss = config(cfg);
    }

    static GrpoLoss.Config config(GrpoConfig cfg) {
        return new GrpoLoss.Config(cfg.lossType(), cfg.importanceSamplingLevel(), cfg.epsilon(), cfg.upperEpsilon(), cfg.beta(),
                cfg.maxNewTokens());
    }

    @Override
    public NDArray loss(Trajectory t, int[] rows, NDManager m, Map<String, Double> metrics) {
        MiniBatch mb = new MiniBatch(t, rows, m);
        NDArray mask = mb.mask(); // (b, R)
        PolicyForward f = mb.forward(policy, null, cfg.temperature());
        float[] a = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            a[i] = batch.advantages()[rows[i]];
        }
        NDArray lp = f.logProbs(); // (b, R)
        GrpoLoss.Result r = GrpoLoss.loss(lp,
                mb.of(t.logProbs()), mb.of(t.refLogProbs()),
                m.create(a).toType(lp.getDataType(), false), mask, batch.tokens(), loss);
        metrics.putAll(r.metrics());
        NDArray entropy = PpoLoss.entropyPerToken(f.logits().stopGradient()); // (b, R)
        metrics.put("entropy", LossOps.scalar(GrpoLoss.meanOver(entropy, LossOps.maskAs(mask, entropy))));
        return r.loss();
    }
}
