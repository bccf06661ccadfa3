package ai.loro.lora;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.Projection;
import ai.loro.core.train.TrainMode;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A LoRA adapter for a {@link LlamaModel}: for every targeted projection {@code W (out, in)} a pair
 * {@code A (r, in)}, {@code B (out, r)} in the model's dtype, applied as PEFT does:
 * {@code y = x Wᵀ + scale · (dropout(x) Aᵀ) Bᵀ}. The adapter owns its arrays (its own
 * {@link NDManager}); the base weights are never copied, never marked as requiring gradients.
 *
 * <p>Dropout is active only while {@link #setTraining(boolean) training}. Its mask is a function of
 * (seed, step, module, call): before each dropout the adapter reseeds libtorch's generator
 * ({@code Engine.setRandomSeed}) with a hash of the adapter seed, the step set by
 * {@link #setStep(long)}, the module name and how many times that module's delta has run since
 * {@code setStep}. So a resumed run that calls {@code setStep} replays the same masks, and two
 * micro-batches of one step get different ones. The reseed touches the global generator: draw other
 * random numbers (sampling) after the forward pass, or reseed them yourself. Activation
 * checkpointing that re-runs a forward must call {@code setStep} again before re-running.
 */
public final class LoraAdapter implements AutoCloseable, TrainMode {
    /** One adapted projection. */
    public record Module(String name, int layer, HfNames.Proj proj, int rank, double alpha, double scale,
                         NDArray a, NDArray b) {
        /** PEFT's saved key for A: {@code base_model.model.<name>.lora_A.weight}. */
        public String keyA() {
            return peftKey(name, "A");
        }

        public String keyB() {
            return peftKey(name, "B");
        }
    }

    private final LoraConfig config;
    private final long seed;
    private final NDManager manager;
    private final DataType dtype;
    private final LlamaConfig modelConfig;
    private final Map<String, Module> modules; // module name → module, model order
    private final Map<String, NDArray> scales = new HashMap<>(); // module name → 0-d scale array
    private final Map<String, Integer> calls = new HashMap<>();
    private LlamaModel attached;
    private boolean training;
    private long step;

    private LoraAdapter(LoraConfig config, long seed, NDManager manager, DataType dtype, LlamaConfig modelConfig,
                        Map<String, Module> modules) {
        this.config = config;
        this.seed = seed;
        this.manager = manager;
        this.dtype = dtype;
        this.modelConfig = modelConfig;
        this.modules = Collections.unmodifiableMap(modules);
        for (Module m : modules.values()) {
            NDArray s = dtype == DataType.FLOAT64 ? manager.create(m.scale()) : manager.create((float) m.scale());
            if (s.getDataType() != dtype) {
                NDArray t = s.toType(dtype, false);
                s.close();
                s = t;
            }
            scales.put(m.name(), s);
            m.a().setRequiresGradient(true);
            m.b().setRequiresGradient(true);
        }
    }

    /** PEFT's saved tensor key for a module's A or B ({@code which} = "A" or "B"). */
    public static String peftKey(String module, String which) {
        return "base_model.model." + module + ".lora_" + which + ".weight";
    }

    /**
     * A freshly initialised adapter for every projection of {@code model} that {@code config} targets:
     * A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT's kaiming_uniform(a=sqrt(5))), B = 0, drawn in Java from
     * a stream seeded by (seed, module name), so the values do not depend on which other modules exist.
     */
    public static LoraAdapter create(LlamaModel model, LoraConfig config, long seed) {
        LlamaConfig c = model.config();
        NDManager manager = NDManager.newBaseManager(model.manager().getDevice());
        try {
            Map<String, Module> modules = new LinkedHashMap<>();
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                for (HfNames.Proj p : HfNames.Proj.values()) {
                    String name = HfNames.module(l, p);
                    if (!config.targets(name)) {
                        continue;
                    }
                    int r = config.rankFor(name);
                    int in = p.inFeatures(c);
                    int out = p.outFeatures(c);
                    float[] a = new float[Math.multiplyExact(r, in)];
                    SplittableRandom rng = new SplittableRandom(mix(seed, name.hashCode()));
                    double bound = 1.0 / Math.sqrt(in);
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                    }
                    NDArray aArr = typed(manager.create(a, new Shape(r, in)), model.dtype());
                    NDArray bArr = manager.zeros(new Shape(out, r), model.dtype());
                    aArr.setName(peftKey(name, "A"));
                    bArr.setName(peftKey(name, "B"));
                    double alpha = config.alphaFor(name);
                    modules.put(name, new Module(name, l, p, r, alpha, config.scale(r, alpha), aArr, bArr));
                }
            }
            if (modules.isEmpty()) {
                throw new LoroException("LoRA target_modules " + describeTargets(config) + " match no module of the model");
            }
            return new LoraAdapter(config, seed, manager, model.dtype(), c, modules);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * An adapter from given arrays (module name → {A, B}, already on {@code manager}, in the model's
     * dtype and with checked shapes); takes ownership of {@code manager}.
     */
    static LoraAdapter fromArrays(LlamaModel model, LoraConfig config, long seed, NDManager manager,
                                  Map<String, NDArray[]> arrays) {
        Map<String, Module> modules = new LinkedHashMap<>();
        LlamaConfig c = model.config();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (HfNames.Proj p : HfNames.Proj.values()) {
                String name = HfNames.module(l, p);
                NDArray[] ab = arrays.get(name);
                if (ab == null) {
                    continue;
                }
                int r = (int) ab[0].getShape().get(0);
                double alpha = config.alphaFor(name);
                ab[0].setName(peftKey(name, "A"));
                ab[1].setName(peftKey(name, "B"));
                modules.put(name, new Module(name, l, p, r, alpha, config.scale(r, alpha), ab[0], ab[1]));
            }
        }
        return new LoraAdapter(config, seed, manager, model.dtype(), c, modules);
    }

    private static NDArray typed(NDArray a, DataType dtype) {
        if (a.getDataType() == dtype) {
            return a;
        }
        NDArray t = a.toType(dtype, false);
        a.close();
        return t;
    }

    static String describeTargets(LoraConfig config) {
        return config.targetRegex() != null ? "'" + config.targetRegex() + "'" : config.targetModules().toString();
    }

    private static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Installs this adapter's deltas on {@code model}'s projections (replacing any delta there). */
    public void attach(LlamaModel model) {
        if (attached != null) {
            if (attached == model) {
                return;
            }
            throw new IllegalStateException("LoRA adapter is already attached to another model; detach it first");
        }
        if (model.dtype() != dtype) {
            throw new LoroException("LoRA adapter is " + dtype + " but the model is " + model.dtype());
        }
        for (Module m : modules.values()) {
            if (m.layer() >= model.config().numHiddenLayers()) {
                throw new LoroException("LoRA module " + m.name() + " is not in the model (it has "
                        + model.config().numHiddenLayers() + " layers)");
            }
            Projection proj = model.layer(m.layer()).projection(m.proj());
            long[] w = proj.weightShape().getShape();
            if (w[0] != m.b().getShape().get(0) || w[1] != m.a().getShape().get(1)) {
                throw new LoroException("LoRA module " + m.name() + ": A " + m.a().getShape() + " / B " + m.b().getShape()
                        + " do not fit the model's weight " + Arrays.toString(w));
            }
        }
        for (Module m : modules.values()) {
            model.layer(m.layer()).projection(m.proj()).setDelta(new LoraDelta(m, scales.get(m.name())));
        }
        attached = model;
    }

    /** Removes this adapter's deltas from the model it is attached to (no-op when detached). */
    public void detach() {
        if (attached == null) {
            return;
        }
        for (Module m : modules.values()) {
            Projection proj = attached.layer(m.layer()).projection(m.proj());
            if (proj.delta() instanceof LoraDelta d && d.owner() == this) {
                proj.setDelta(null);
            }
        }
        attached = null;
    }

    public boolean isAttached() {
        return attached != null;
    }

    /** Dropout on (training) or off (evaluation, generation). */
    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    /** Starts a step: dropout masks from now on are functions of (seed, step, module, call). */
    @Override
    public void setStep(long step) {
        this.step = step;
        calls.clear();
    }

    public long step() {
        return step;
    }

    /** Trainable arrays by PEFT key ({@code base_model.model.<module>.lora_A.weight}, then lora_B), model order. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Module m : modules.values()) {
            out.put(m.keyA(), m.a());
            out.put(m.keyB(), m.b());
        }
        return out;
    }

    /** The adapted modules by module name ({@code model.layers.N.self_attn.q_proj}), model order. */
    public Map<String, Module> modules() {
        return modules;
    }

    public Module module(String name) {
        Module m = modules.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no LoRA module " + name + " (have " + modules.keySet() + ")");
        }
        return m;
    }

    /** Target short names actually adapted, sorted (PEFT's saved target_modules for a list target). */
    public List<String> targetShortNames() {
        return modules.values().stream().map(m -> m.proj().shortName()).distinct().sorted().toList();
    }

    public LoraConfig config() {
        return config;
    }

    public long seed() {
        return seed;
    }

    public DataType dtype() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    /** The shape of the model this adapter was built for. */
    public LlamaConfig modelConfig() {
        return modelConfig;
    }

    @Override
    public void close() {
        detach();
        manager.close();
    }

    private final class LoraDelta implements Projection.Delta {
        private final Module m;
        private final NDArray scale;
        private final int nameHash;

        LoraDelta(Module m, NDArray scale) {
            this.m = m;
            this.scale = scale;
            this.nameHash = m.name().hashCode();
        }

        LoraAdapter owner() {
            return LoraAdapter.this;
        }

        @Override
        public NDArray apply(NDArray x) {
            NDArray in = x;
            if (training && config.dropout() > 0) {
                int call = calls.merge(m.name(), 1, Integer::sum) - 1;
                long h = mix(mix(mix(seed, step), nameHash), call);
                Engine.getInstance().setRandomSeed((int) (h ^ (h >>> 32)));
                in = Dropout.dropout(x, (float) config.dropout(), true).singletonOrThrow();
            }
            NDArray down = Linear.linear(in, m.a()).singletonOrThrow(); // (B, T, r)
            NDArray up = Linear.linear(down, m.b()).singletonOrThrow(); // (B, T, out)
            return up.mul(scale); // scale: a cached array that outlives every backward pass
        }

        @Override
        public boolean trainable() {
            return m.a().hasGradient() || m.b().hasGradient();
        }

        @Override
        public Object randomState() { // the mask is a function of (seed, step, module, call index)
            return calls.getOrDefault(m.name(), 0);
        }

        @Override
        public void restoreRandomState(Object state) {
            calls.put(m.name(), (Integer) state);
        }
    }
}
