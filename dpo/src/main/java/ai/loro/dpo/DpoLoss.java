package ai.loro.dpo;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.recipe.RecipeEnum;
import ai.loro.core.loss.LossOps;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * TRL's DPOTrainer.dpo_loss for the loss types {@code sigmoid} (DPO, with cDPO label smoothing),
 * {@code hinge} (SLiC), {@code ipo} and {@code robust} (rDPO), plus RPO's NLL term.
 *
 * <p>With h = (π_c − π_r) − (ref_c − ref_r) (policy and reference log-prob gaps), per pair:
 * <ul>
 *   <li>sigmoid: {@code −log σ(βh)(1−ε) − log σ(−βh)ε}
 *   <li>hinge: {@code relu(1 − βh)}
 *   <li>ipo: {@code (h − 1/(2β))²}, on average log-probs per token (TRL divides all four by the
 *       response's token count when loss_type is ipo)
 *   <li>robust: {@code (−log σ(βh)(1−ε) + log σ(−βh)ε) / (1 − 2ε)}
 * </ul>
 * The loss is the batch mean, plus {@code rpo_alpha · nll} when rpo_alpha is set. hinge and ipo
 * ignore ε (TRL warns and ignores it too). Rewards β(π − ref) are detached.
 */
public final class DpoLoss {
    private DpoLoss() {}

    /** The loss types, by TRL's names. */
    public enum Type implements RecipeEnum {
        SIGMOID, HINGE, IPO, ROBUST;

        /** TRL's name: sigmoid, hinge, ipo, robust (the recipe's {@code dpo.loss_type} allows exactly these, in this order). */
        public String trlName() {
            return yamlName();
        }

        /** Parses a TRL name; anything else is a one-line {@link LoroException} listing the allowed names. */
        public static Type parse(String name) {
            for (Type t : values()) {
                if (t.trlName().equals(name)) {
                    return t;
                }
            }
            throw new LoroException("unknown DPO loss_type '" + name + "'; allowed: "
                    + Arrays.stream(values()).map(Type::trlName).collect(Collectors.joining(", ")));
        }
    }

    /**
     * Validated settings.
     *
     * @param beta β > 0
     * @param type the loss type
     * @param labelSmoothing ε in [0, 0.5)
     * @param rpoAlpha RPO's α ≥ 0, or null for plain DPO
     */
    public record Options(double beta, Type type, double labelSmoothing, Double rpoAlpha) {
        public Options {
            if (!(beta > 0) || Double.isInfinite(beta)) {
                throw new LoroException("beta must be a finite number > 0, got " + beta);
            }
            if (type == null) {
                throw new LoroException("loss_type is missing; allowed: "
                        + Arrays.stream(Type.values()).map(Type::trlName).collect(Collectors.joining(", ")));
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
                throw new LoroException("label_smoothing must be in [0, 0.5)" + (type == Type.ROBUST
                        ? " (robust divides by 1 − 2·label_smoothing)" : "") + ", got " + labelSmoothing);
            }
            if (rpoAlpha != null && (!(rpoAlpha >= 0) || rpoAlpha.isInfinite())) {
                throw new LoroException("rpo_alpha must be a finite number ≥ 0 or unset, got " + rpoAlpha);
            }
        }

        public Options(double beta, String type, double labelSmoothing, Double rpoAlpha) {
            this(beta, Type.parse(type), labelSmoothing, rpoAlpha);
        }

        public Options(double beta, String type) {
            this(beta, Type.parse(type), 0, null);
        }
    }

    /**
     * @param loss the scalar to minimise
     * @param losses (B) per-pair losses (without the RPO term)
     * @param chosenRewards (B) β(π_c − ref_c), detached
     * @param rejectedRewards (B) β(π_r − ref_r), detached
     * @param metrics TRL's names: rewards/chosen, rewards/rejected, rewards/accuracies,
     *     rewards/margins, logps/chosen, logps/rejected, and nll_loss when rpo_alpha is set
     */
    public record Result(NDArray loss, NDArray losses, NDArray chosenRewards, NDArray rejectedRewards, Map<String, Double> metrics) {}

    /** For every type but ipo, and without RPO. Inputs are summed log-probs, (B) each. */
    public static Result loss(NDArray policyChosen, NDArray policyRejected, NDArray refChosen, NDArray refRejected, Options o) {
        return loss(policyChosen, policyRejected, refChosen, refRejected, null, null, null, o);
    }

    /**
     * @param policyChosen (B) summed log-prob of each chosen response under the policy
     * @param policyRejected (B) rejected, policy
     * @param refChosen (B) chosen, reference model
     * @param refRejected (B) rejected, reference model
     * @param chosenLengths (B) response token counts (ipo only, else may be null)
     * @param rejectedLengths (B) (ipo only)
     * @param chosenNll () the chosen responses' mean per-token NLL ({@link SequenceLogProbs#nll}),
     *     required when rpo_alpha is set
     */
    public static Result loss(NDArray policyChosen, NDArray policyRejected, NDArray refChosen, NDArray refRejected,
            NDArray chosenLengths, NDArray rejectedLengths, NDArray chosenNll, Options o) {
        NDArray pc = policyChosen;
        NDArray pr = policyRejected;
        NDArray rc = refChosen;
        NDArray rr = refRejected;
        if (o.type() == Type.IPO) {
            if (chosenLengths == null || rejectedLengths == null) {
                throw new LoroException("loss_type ipo needs the chosen and rejected response lengths (token counts)");
            }
            NDArray lc = LossOps.maskAs(chosenLengths.gt(0), pc).sum();
            NDArray lr = LossOps.maskAs(rejectedLengths.gt(0), pc).sum();
            long b = pc.getShape().get(0);
            if (LossOps.scalar(lc) != b || LossOps.scalar(lr) != b) {
                throw new LoroException("loss_type ipo: every response length must be > 0");
            }
            NDArray nc = chosenLengths.toType(pc.getDataType(), false);
            NDArray nr = rejectedLengths.toType(pc.getDataType(), false);
            pc = pc.div(nc); // (B) average log-prob per token
            pr = pr.div(nr);
            rc = rc.div(nc);
            rr = rr.div(nr);
        }
        if (o.rpoAlpha() != null && chosenNll == null) {
            throw new LoroException("rpo_alpha is set: the chosen responses' NLL must be supplied");
        }
        double beta = o.beta();
        double eps = o.labelSmoothing();
        NDArray h = pc.sub(pr).sub(rc.sub(rr)); // (B) logits = policy gap − reference gap
        NDArray losses = switch (o.type()) { // (B)
            case SIGMOID -> {
                NDArray bh = LossOps.times(h, beta);
                NDArray l = LossOps.times(LossOps.logSigmoid(bh).neg(), 1 - eps);
                yield eps == 0 ? l : l.sub(LossOps.times(LossOps.logSigmoid(bh.neg()), eps));
            }
            case ROBUST -> {
                NDArray bh = LossOps.times(h, beta);
                NDArray l = LossOps.times(LossOps.logSigmoid(bh).neg(), 1 - eps);
                if (eps != 0) {
                    l = l.add(LossOps.times(LossOps.logSigmoid(bh.neg()), eps));
                }
                yield LossOps.times(l, 1 / (1 - 2 * eps));
            }
            case HINGE -> LossOps.times(h, -beta).add(1).maximum(0);
            case IPO -> h.sub(1 / (2 * beta)).square();
        };
        NDArray loss = losses.mean();
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (o.rpoAlpha() != null) {
            loss = loss.add(LossOps.times(chosenNll, o.rpoAlpha()));
        }
        NDArray chosenRewards = pc.sub(rc).stopGradient().mul(beta); // (B)
        NDArray rejectedRewards = pr.sub(rr).stopGradient().mul(beta); // (B)
        metrics.put("rewards/chosen", LossOps.scalar(chosenRewards.mean()));
        metrics.put("rewards/rejected", LossOps.scalar(rejectedRewards.mean()));
        metrics.put("rewards/accuracies",
                LossOps.scalar(chosenRewards.gt(rejectedRewards).toType(chosenRewards.getDataType(), false).mean()));
        metrics.put("rewards/margins", LossOps.scalar(chosenRewards.sub(rejectedRewards).mean()));
        metrics.put("logps/chosen", LossOps.scalar(pc.mean()));
        metrics.put("logps/rejected", LossOps.scalar(pr.mean()));
        if (o.rpoAlpha() != null) {
            metrics.put("nll_loss", LossOps.scalar(chosenNll));
        }
        return new Result(loss, losses, chosenRewards, rejectedRewards, metrics);
    }
}
