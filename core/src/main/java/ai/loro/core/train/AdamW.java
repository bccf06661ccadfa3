package ai.loro.core.train;

import ai.loro.core.model.NoGrad;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * {@code torch.optim.AdamW} (the single-tensor/foreach algorithm, {@code amsgrad=False},
 * {@code maximize=False}) over a fixed set of parameters. For each parameter with a gradient, at step
 * {@code t} (1-based) with learning rate {@code lr}:
 *
 * <pre>
 * p  *= 1 - lr·wd                          (decoupled decay; skipped where {@link Options#decay} says no)
 * m   = β1·m + (1-β1)·g
 * v   = β2·v + (1-β2)·g·g
 * p  += -(lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
 * </pre>
 *
 * then every gradient is zeroed. DJL's fused {@code adamUpdate} is not used: it adds {@code eps}
 * to {@code sqrt(v)} before the bias correction (so {@code eps} is effectively scaled by
 * {@code sqrt(1-β2^t)}), passes hyperparameters as float32 and applies decay as
 * {@code p - p·lr·wd}; none of that matches torch.
 *
 * <p>Moments live in this optimizer's own manager; every temporary of an update dies with the update.
 * Updates run with grad mode off.
 *
 * <p>Mixed precision (fp16 parameters): the optimizer keeps an fp32 master copy of each fp16
 * parameter and fp32 moments, updates the master with the fp32 gradient ({@link Gradients#widen()})
 * and writes the rounded result back into the fp16 parameter (Micikevicius et al. 2018; apex O2).
 * Checkpoints carry the masters ({@code <param>.master}), so a resumed run continues from the exact
 * fp32 values.
 */
public final class AdamW implements AutoCloseable {
    /** transformers' {@code Trainer.get_decay_parameter_names}: no decay for biases and norm weights. */
    private static final Pattern NO_DECAY = Pattern.compile("bias|layernorm|rmsnorm|(?:^|\\.)norm(?:$|\\.)|_norm(?:$|\\.)");

    /**
     * Hyperparameters other than the learning rate (which comes from the schedule per step).
     *
     * @param decay which parameters (by name) get weight decay
     */
    public record Options(double beta1, double beta2, double eps, double weightDecay, Predicate<String> decay) {
        public Options {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new LoroException("adam betas must lie in [0, 1), got (" + beta1 + ", " + beta2 + ")");
            }
            if (!(eps >= 0) || !(weightDecay >= 0)) {
                throw new LoroException("adam eps and weight_decay must be >= 0, got eps " + eps + ", weight_decay " + weightDecay);
            }
            if (decay == null) {
                decay = name -> true;
            }
        }

        /** transformers' TrainingArguments defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0. */
        public static Options defaults() {
            return new Options(0.9, 0.999, 1e-8, 0.0, name -> true);
        }

        public Options withWeightDecay(double wd, boolean excludeBiasAndNorm) {
            return new Options(beta1, beta2, eps, wd, excludeBiasAndNorm ? AdamW::hfDecays : name -> true);
        }
    }

    /**
     * Optimizer state for checkpoints.
     *
     * @param step number of updates taken
     * @param tensors {@code <param>.exp_avg} and {@code <param>.exp_avg_sq} for every parameter
     */
    public record State(long step, Map<String, NDArray> tensors) {}

    /** True where transformers' Trainer would apply weight decay (not a bias, not a norm weight). */
    public static boolean hfDecays(String name) {
        return !NO_DECAY.matcher(name.toLowerCase(java.util.Locale.ROOT)).find();
    }

    private final Options options;
    private final Gradients gradients;
    private final NDManager manager;
    private final List<NDArray> params;
    private final boolean[] decays;
    private final NDArray[] m;
    private final NDArray[] v;
    private final NDArray[] master; // fp32 copy of an fp16 parameter; null otherwise
    private long step;

    public AdamW(Map<String, NDArray> params, Options options) {
        this.options = options;
        this.gradients = new Gradients(params);
        this.params = new ArrayList<>(params.values());
        this.manager = NDManager.newBaseManager(this.params.get(0).getDevice());
        this.manager.setName("adamw-state");
        int n = this.params.size();
        this.decays = new boolean[n];
        this.m = new NDArray[n];
        this.v = new NDArray[n];
        this.master = new NDArray[n];
        try (NDScope ignored = new NDScope()) {
            int i = 0;
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray p = e.getValue();
                DataType t = p.getDataType();
                if (!t.isFloating()) {
                    throw new LoroException("parameter " + e.getKey() + " has data type " + t + "; only floating point parameters can be trained");
                }
                decays[i] = options.weightDecay() > 0 && options.decay().test(e.getKey());
                if (t == DataType.FLOAT16) {
                    t = DataType.FLOAT32;
                    master[i] = keep(manager.zeros(p.getShape(), t));
                    copyInto(master[i], p, e.getKey());
                }
                m[i] = keep(manager.zeros(p.getShape(), t));
                v[i] = keep(manager.zeros(p.getShape(), t));
                p.setRequiresGradient(true);
                i++;
            }
        }
    }

    private static NDArray keep(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    public Options options() {
        return options;
    }

    /** The gradients of the optimized parameters. */
    public Gradients gradients() {
        return gradients;
    }

    /** Number of updates taken so far. */
    public long stepCount() {
        return step;
    }

    /** One update with learning rate {@code lr}; parameters without a gradient are skipped (as torch does). Zeroes all gradients. */
    public void step(double lr) {
        step++;
        double b1 = options.beta1();
        double b2 = options.beta2();
        double bc1 = 1 - Math.pow(b1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        double stepSize = lr / bc1;
        try (NDManager tmp = manager.newSubManager(); NDScope ignored = new NDScope(); NoGrad ng = new NoGrad()) {
            Map<DataType, NDArray[]> scalars = new EnumMap<>(DataType.class);
            for (int i = 0; i < params.size(); i++) {
                NDArray g = gradients.get(i);
                if (g == null) {
                    continue;
                }
                NDArray p = master[i] != null ? master[i] : params.get(i);
                NDArray[] s = scalars.computeIfAbsent(p.getDataType(), t -> new NDArray[] {
                        scalar(tmp, 1 - lr * options.weightDecay(), t), scalar(tmp, b1, t), scalar(tmp, 1 - b1, t),
                        scalar(tmp, b2, t), scalar(tmp, 1 - b2, t), scalar(tmp, bc2Sqrt, t), scalar(tmp, options.eps(), t),
                        scalar(tmp, -stepSize, t), scalar(tmp, 0, t)});
                // every op that makes an array has a temporary as its first operand, so results join tmp
                if (decays[i]) {
                    p.muli(s[0]);
                }
                m[i].muli(s[1]).addi(s[2].mul(g));
                v[i].muli(s[3]).addi(s[4].mul(g).muli(g));
                NDArray denom = s[8].add(v[i]).sqrt().divi(s[5]).addi(s[6]);
                p.addi(s[7].mul(m[i]).divi(denom));
                if (master[i] != null) {
                    copyInto(params.get(i), master[i], gradients.name(i)); // round to fp16
                }
            }
        }
        gradients.zero();
    }

    private static NDArray scalar(NDManager m, double value, DataType t) {
        return m.create(value).toType(t, false);
    }

    /** The moments (live arrays: write them out before the next step) and the step count. */
    public State state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put(gradients.name(i) + ".exp_avg", m[i]);
            out.put(gradients.name(i) + ".exp_avg_sq", v[i]);
            if (master[i] != null) {
                out.put(gradients.name(i) + ".master", master[i]);
            }
        }
        return new State(step, Collections.unmodifiableMap(out));
    }

    /** Copies moments and the step count from {@code state} (same parameter names and shapes). */
    public void loadState(State state) {
        try (NoGrad ng = new NoGrad()) {
            for (int i = 0; i < params.size(); i++) {
                copyInto(m[i], state.tensors().get(gradients.name(i) + ".exp_avg"), gradients.name(i) + ".exp_avg");
                copyInto(v[i], state.tensors().get(gradients.name(i) + ".exp_avg_sq"), gradients.name(i) + ".exp_avg_sq");
                if (master[i] != null) {
                    copyInto(master[i], state.tensors().get(gradients.name(i) + ".master"), gradients.name(i) + ".master");
                    copyInto(params.get(i), master[i], gradients.name(i));
                }
            }
        }
        this.step = state.step();
    }

    /**
     * Copies {@code src}'s values into {@code dst}'s own storage. Not {@code dst.set(Buffer)}: on
     * PyTorch that re-points {@code dst} at the Java buffer ({@code set_}) instead of copying into it.
     */
    static void copyInto(NDArray dst, NDArray src, String name) {
        if (src == null) {
            throw new LoroException("checkpoint has no tensor '" + name + "'");
        }
        if (!Arrays.equals(src.getShape().getShape(), dst.getShape().getShape())) {
            throw new LoroException("checkpoint tensor '" + name + "' has shape " + src.getShape() + " but the model's is " + dst.getShape());
        }
        try (NoGrad ng = new NoGrad()) {
            dst.set(new NDIndex("..."), src); // index_put_: copies (and casts) into dst's storage
        }
    }

    /** The manager holding the moments (for leak checks in tests). */
    NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
        gradients.close();
    }
}
