package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;

/**
 * The policy's view of some rows of a rollout: response log-probs, logits and (with a value head)
 * values, from one forward pass of {@code model} as it is now (adapters on or off as set). Logits
 * are divided by {@code temperature + 1e-7}, the distribution that was sampled.
 *
 * @param logProbs (b, R) log-prob of each response token
 * @param values (b, R) the value head's estimates, or null without a head
 * @param logits (b, R, V) the tempered logits that predict the response tokens
 */
public record PolicyForward(NDArray logProbs, NDArray values, NDArray logits) {

    /** {@code rows} of {@code ro} through {@code model} (and {@code head}, when not null); arrays on {@code m}. */
    public static PolicyForward of(LlamaModel model, ValueHead head, Rollout ro, int[] rows, double temperature, NDManager m) {
        int p = ro.promptLen();
        int len = ro.length();
        NDArray ids = Rollout.rows(m, ro.ids(), len, rows);
        NDArray att = Rollout.rows(m, ro.attention(), len, rows);
        NDArray resp = Rollout.rows(m, ro.responseIds(), ro.responseLen(), rows);
        NDArray hidden = model.hiddenStates(ids, att, null); // (b, P + R, H)
        NDArray h = hidden.get(new NDIndex(":, {}:{}, :", p - 1, len - 1)); // (b, R, H): the states that predict the response
        NDArray logits = LossOps.times(model.logits(h), 1 / (temperature + 1e-7)); // (b, R, V)
        NDArray lp = logits.logSoftmax(-1).gather(resp.expandDims(-1), -1).squeeze(-1); // (b, R)
        return new PolicyForward(lp, head == null ? null : head.forward(h), logits);
    }
}
