package ai.loro.rlhf;

import ai.loro.core.LoroException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The KL coefficient β of the per-token penalty −β·KL, fixed or adaptive (Ziegler et al. 2019,
 * TRL's AdaptiveKLController):
 * {@code e = clip(KL/target − 1, −0.2, 0.2); β ← β · (1 + e · n_steps / horizon)}.
 * {@link #state()} and {@link #fromState} carry it across checkpoints.
 */
public abstract sealed class KlController permits KlController.Fixed, KlController.Adaptive {
    protected double value;

    KlController(double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new LoroException("kl_coef must be a finite number ≥ 0, got " + value);
        }
        this.value = value;
    }

    /** The current coefficient. */
    public double value() {
        return value;
    }

    /**
     * @param currentKl the batch's mean per-sequence KL
     * @param nSteps samples seen in this update (TRL passes the batch size)
     */
    public abstract void update(double currentKl, long nSteps);

    /** Checkpointable state: kind ("fixed" | "adaptive"), value, and for adaptive target and horizon. */
    public record State(String kind, double value, double target, double horizon) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", kind);
            m.put("value", value);
            if (kind.equals("adaptive")) {
                m.put("target", target);
                m.put("horizon", horizon);
            }
            return m;
        }

        public static State fromMap(Map<String, ?> m) {
            Object kind = m.get("kind");
            Object value = m.get("value");
            if (!(kind instanceof String) || !(value instanceof Number)) {
                throw new LoroException("KL controller state needs 'kind' (fixed|adaptive) and a numeric 'value', got " + m);
            }
            if (kind.equals("adaptive")) {
                if (!(m.get("target") instanceof Number t) || !(m.get("horizon") instanceof Number h)) {
                    throw new LoroException("adaptive KL controller state needs numeric 'target' and 'horizon', got " + m);
                }
                return new State("adaptive", ((Number) value).doubleValue(), t.doubleValue(), h.doubleValue());
            }
            return new State((String) kind, ((Number) value).doubleValue(), 0, 0);
        }
    }

    public abstract State state();

    public static KlController fixed(double klCoef) {
        return new Fixed(klCoef);
    }

    public static KlController adaptive(double initKlCoef, double target, double horizon) {
        return new Adaptive(initKlCoef, target, horizon);
    }

    public static KlController fromState(State s) {
        return switch (s.kind()) {
            case "fixed" -> new Fixed(s.value());
            case "adaptive" -> new Adaptive(s.value(), s.target(), s.horizon());
            default -> throw new LoroException("unknown KL controller kind '" + s.kind() + "'; allowed: fixed, adaptive");
        };
    }

    /** β never changes. */
    public static final class Fixed extends KlController {
        Fixed(double value) {
            super(value);
        }

        @Override
        public void update(double currentKl, long nSteps) {}

        @Override
        public State state() {
            return new State("fixed", value, 0, 0);
        }
    }

    /** β follows the measured KL towards a target. */
    public static final class Adaptive extends KlController {
        private final double target;
        private final double horizon;

        Adaptive(double value, double target, double horizon) {
            super(value);
            if (!(target > 0) || !(horizon > 0)) {
                throw new LoroException("adaptive KL control needs target > 0 and horizon > 0, got target " + target
                        + ", horizon " + horizon);
            }
            this.target = target;
            this.horizon = horizon;
        }

        @Override
        public void update(double currentKl, long nSteps) {
            double e = Math.max(-0.2, Math.min(0.2, currentKl / target - 1));
            value *= 1 + e * nSteps / horizon;
        }

        @Override
        public State state() {
            return new State("adaptive", value, target, horizon);
        }
    }
}
