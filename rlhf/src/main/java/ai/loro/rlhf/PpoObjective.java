package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import java.util.Map;

/**
 * PPO's mini-batch loss (TRL's): {@code PpoLoss.policy + vf_coef · PpoLoss.value − ent_coef · entropy},
 * with the policy's log-probs and the value head's values of the mini-batch's rows against the
 * trajectory's old log-probs, advantages, old values and returns.
 */
public record PpoObjective(LlamaModel policy, ValueHead head, PpoConfig cfg) implements PolicyUpdate.Objective {
    @Override
    public NDArray loss(Trajectory t, int[] rows, NDManager m, Map<String, Double> metrics) {
        MiniBatch mb = new MiniBatch(t, rows, m);
        NDArray mask = mb.mask(); // (b, R)
        PolicyForward f = mb.forward(policy, head, cfg.temperature());
        PpoLoss.Result pg = PpoLoss.policy(f.logProbs(), mb.of(t.logProbs()), mb.of(t.advantages()), mask, cfg.cliprange());
        PpoLoss.Result vf = PpoLoss.value(f.values(), mb.of(t.values()), mb.of(t.returns()), mask, cfg.cliprangeValue());
        NDArray loss = pg.loss().add(LossOps.times(vf.loss(), cfg.vfCoef()));
        // the entropy is a metric either way; it joins the graph only when it is part of the loss
        NDArray entropy = cfg.entCoef() > 0 ? PpoLoss.entropy(f.logits(), mask) : PpoLoss.entropy(f.logits().stopGradient(), mask);
        if (cfg.entCoef() > 0) {
            loss = loss.sub(LossOps.times(entropy, cfg.entCoef()));
        }
        metrics.putAll(pg.metrics());
        metrics.putAll(vf.metrics());
        metrics.put("ppo/policy/entropy", LossOps.scalar(entropy));
        return loss;
    }
}
