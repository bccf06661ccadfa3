package ai.loro.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;

/**
 * Small numeric building blocks shared by the loss functions of the reward, DPO and RLHF stages.
 * Every function is pure, puts the per-step activation first in each op (so results join its
 * manager, docs/engine.md "Memory"), and works in the activation's dtype (fp32, fp16, fp64).
 */
public final class LossOps {
    private LossOps() {}

    /**
     * {@code softplus(x) = log(1 + e^x)}, stable and with the exact gradient σ(x) everywhere,
     * including x = 0.
     *
     * <p>Two branches, each fed only the inputs where it is stable (the other entries get 0, so
     * neither branch overflows and no NaN reaches the gradient through {@code where}):
     * x ≥ 0: {@code x + log(1 + e^-x)}; x < 0: {@code log(1 + e^x)}. The textbook composition
     * {@code log1p(exp(-|x|)) + max(x, 0)} has kinks at 0 whose autograd gradients are 0 (abs) and
     * 0, ½ or 1 (max) instead of ½ — and x = 0 is exactly DPO's first step (policy = reference).
     */
    public static NDArray softplus(NDArray x) { // any shape
        NDArray zero = x.zerosLike();
        NDArray pos = x.gte(0);
        NDArray xp = where(pos, x, zero); // x on the x ≥ 0 side, 0 elsewhere
        NDArray xn = where(pos, zero, x); // x on the x < 0 side, 0 elsewhere
        NDArray a = xp.add(xp.neg().exp().add(1).log()); // x + log(1 + e^-x), e^-x ≤ 1
        NDArray b = xn.exp().add(1).log(); // log(1 + e^x), e^x < 1
        return where(pos, a, b);
    }

    /** {@code log σ(x) = -softplus(-x)}, stable for any x. */
    public static NDArray logSigmoid(NDArray x) {
        return softplus(x.neg()).neg();
    }

    /**
     * {@code where(cond, a, b)} with the result on {@code a}'s manager (DJL would put it on the
     * condition's, which may be a long-lived mask).
     */
    public static NDArray where(NDArray cond, NDArray a, NDArray b) {
        NDArray c = cond.getDataType() == DataType.BOOLEAN ? cond : cond.neq(0);
        NDArray r = NDArrays.where(c, a, b);
        if (c != cond) {
            c.attach(a.getManager());
        }
        if (r.getManager() != a.getManager()) {
            r.attach(a.getManager());
        }
        return r;
    }

    /** The mask (any dtype, nonzero = valid) as 0/1 in {@code like}'s dtype, on {@code like}'s manager. */
    public static NDArray maskAs(NDArray mask, NDArray like) {
        NDArray b = mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0);
        NDArray r = b.toType(like.getDataType(), false);
        if (b != mask) {
            b.attach(like.getManager());
        }
        if (r != mask && r.getManager() != like.getManager()) {
            r.attach(like.getManager());
        }
        return r;
    }

    /** {@code x} where the mask is set, 0 elsewhere (also where x is ±inf or NaN). */
    public static NDArray masked(NDArray x, NDArray mask) {
        return where(mask, x, x.zerosLike());
    }

    /** {@code Σ x·m / Σ m} over all elements: a 0-d array (TRL's masked_mean with axis=None). */
    public static NDArray maskedMean(NDArray x, NDArray mask) {
        return masked(x, mask).sum().div(maskAs(mask, x).sum());
    }

    /** {@code Σ x·m / Σ m} along {@code axis} (TRL's masked_mean with an axis). */
    public static NDArray maskedMean(NDArray x, NDArray mask, int axis) {
        return masked(x, mask).sum(new int[] {axis}).div(maskAs(mask, x).sum(new int[] {axis}));
    }

    /** {@code Σ x·m} along {@code axis}. */
    public static NDArray maskedSum(NDArray x, NDArray mask, int axis) {
        return masked(x, mask).sum(new int[] {axis});
    }

    /**
     * Index of the last valid position per row: {@code argmax(arange(T) · mask)}, (B) int64.
     * A row with no valid position gives 0 (check with {@link #requireNonEmptyRows}).
     */
    public static NDArray lastIndexFromMask(NDArray mask) { // (B, T) -> (B)
        long t = mask.getShape().get(1);
        NDArray valid = mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0);
        NDArray pos = mask.getManager().arange(0, (int) t, 1, DataType.INT64); // (T)
        return valid.toType(DataType.INT64, false).mul(pos).argMax(1);
    }

    /** Throws a one-line {@link LoroException} naming the first row of {@code mask} with no valid entry. */
    public static void requireNonEmptyRows(NDArray mask, String what) { // (B, T)
        long[] counts = (mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0))
                .toType(DataType.INT64, false).sum(new int[] {1}).toLongArray();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) {
                throw new LoroException(what + ": row " + i + " of the mask has no valid token");
            }
        }
    }

    /** A new array of {@code like}'s dtype on {@code like}'s manager holding {@code data}. */
    public static NDArray create(NDArray like, double[] data, Shape shape) {
        NDManager m = like.getManager();
        DataType dt = like.getDataType();
        if (dt == DataType.FLOAT64) {
            return m.create(data, shape);
        }
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) data[i];
        }
        NDArray r = m.create(f, shape);
        if (dt == DataType.FLOAT32) {
            return r;
        }
        NDArray c = r.toType(dt, false);
        r.close();
        return c;
    }

    /** The value of a 0-d or single-element array as a double (detached; a host sync). */
    /**
     * A 0-d constant that libtorch owns, in {@code like}'s dtype and manager, for factors that autograd
     * saves for the backward pass. DJL's {@code x.mul(2.0)}, {@code div(n)} or {@code pow(-0.5)} make the
     * scalar from a Java direct buffer and close it right after the op; autograd keeps the tensor, and
     * once the garbage collector frees the buffer the backward pass reads freed memory (gradients that
     * differ from run to run, or NaN). Every scalar factor in a differentiated expression goes through here.
     */
    public static NDArray constant(NDArray like, double value) {
        // cached per (device, dtype, value) in a long-lived manager: made once, never per step
        String key = like.getDevice() + "/" + like.getDataType() + "/" + Double.doubleToLongBits(value);
        return CONSTANTS.computeIfAbsent(key, k -> {
            NDManager m = constantsManager(like);
            try (NDArray javaBacked = m.create(value)) { // FLOAT64, exact
                NDArray typed = javaBacked.toType(like.getDataType(), false);
                NDArray owned = typed.duplicate(); // a clone in libtorch's own memory
                if (typed != javaBacked) {
                    typed.close();
                }
                NDScope.unregister(owned);
                return owned;
            }
        });
    }

    private static final java.util.concurrent.ConcurrentMap<String, NDArray> CONSTANTS =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.util.concurrent.ConcurrentMap<String, NDManager> CONSTANT_MANAGERS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static NDManager constantsManager(NDArray like) {
        return CONSTANT_MANAGERS.computeIfAbsent(like.getDevice().toString(), d -> {
            NDManager m = NDManager.newBaseManager(like.getDevice());
            m.setName("loro-constants");
            return m;
        });
    }

    /**
     * {@code x} in fp32 when it is fp16, differentiably: DJL's dtype-changing {@code toType} is not
     * recorded by autograd (EngineCastFactTest), but type promotion is — adding a one-element fp32
     * zero (a 1-d tensor, which unlike a 0-d one takes part in promotion) gives an fp32 result whose
     * gradient flows back into the fp16 input. Other dtypes are returned as they are.
     */
    public static NDArray widen(NDArray x) {
        if (x.getDataType() != DataType.FLOAT16) {
            return x;
        }
        String key = x.getDevice() + "/widen";
        NDArray zero = CONSTANTS.computeIfAbsent(key, k -> {
            NDArray z = constantsManager(x).zeros(new Shape(1), DataType.FLOAT32);
            NDScope.unregister(z);
            return z;
        });
        return x.add(zero);
    }

    /**
     * {@code x} cast to {@code dtype}, differentiably: copied into a new array of that dtype with
     * {@code set("...")} (libtorch's {@code copy_}, whose backward casts the gradient back), since a
     * dtype-changing {@code toType} is not recorded by autograd. {@code x} itself when already that dtype.
     */
    public static NDArray narrow(NDArray x, DataType dtype) {
        if (x.getDataType() == dtype) {
            return x;
        }
        NDArray out = x.getManager().zeros(x.getShape(), dtype);
        out.set(new NDIndex("..."), x);
        return out;
    }

    /** {@code x · value} with a libtorch-owned scalar (see {@link #constant}). */
    public static NDArray times(NDArray x, double value) {
        return x.mul(constant(x, value));
    }

    public static double scalar(NDArray x) {
        return x.stopGradient().toType(DataType.FLOAT64, false).getDouble();
    }
}
