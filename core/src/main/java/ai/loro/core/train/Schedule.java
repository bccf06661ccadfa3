package ai.loro.core.train;

import ai.loro.core.LoroException;
import java.util.Locale;

/**
 * Learning-rate schedules of transformers' {@code get_scheduler}, as the multiplier that
 * {@code LambdaLR} applies at optimizer step {@code k} (0-based: the first update uses
 * {@code factor(0)}, which is 0 whenever there is a warmup).
 *
 * <ul>
 *   <li>warmup ({@code k < warmup}): {@code k / max(1, warmup)}
 *   <li>{@code constant}: 1
 *   <li>{@code linear}: {@code max(0, (total - k) / max(1, total - warmup))}
 *   <li>{@code cosine}: {@code max(0, 0.5·(1 + cos(π · 0.5 · 2 · p)))}, {@code p = (k - warmup) / max(1, total - warmup)}
 * </ul>
 */
public final class Schedule {
    /** The recipe's {@code lr_scheduler} values (declaration order = the order messages and docs list them). */
    public enum Kind implements ai.loro.core.recipe.RecipeEnum {
        COSINE, LINEAR, CONSTANT;

        public static Kind parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "constant", "constant_with_warmup" -> CONSTANT;
                case "linear" -> LINEAR;
                case "cosine" -> COSINE;
                default -> throw new LoroException("lr_scheduler_type: unknown schedule '" + s + "' (allowed: constant, linear, cosine)");
            };
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Kind kind;
    private final double baseLr;
    private final int warmupSteps;
    private final int totalSteps;

    public Schedule(Kind kind, double baseLr, int warmupSteps, int totalSteps) {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
            throw new LoroException("learning_rate must be a finite number >= 0, got " + baseLr);
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new LoroException("warmup_steps and max_steps must be >= 0, got " + warmupSteps + " and " + totalSteps);
        }
        this.kind = kind;
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
    }

    /** transformers' {@code TrainingArguments.get_warmup_steps}: {@code ceil(total · ratio)}. */
    public static int warmupSteps(double warmupRatio, int totalSteps) {
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new LoroException("warmup_ratio must lie in [0, 1], got " + warmupRatio);
        }
        return (int) Math.ceil(totalSteps * warmupRatio);
    }

    public Kind kind() {
        return kind;
    }

    public double baseLr() {
        return baseLr;
    }

    public int warmupSteps() {
        return warmupSteps;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** The multiplier at 0-based optimizer step {@code k}. */
    public double factor(int k) {
        if (k < warmupSteps) {
            return (double) k / Math.max(1, warmupSteps);
        }
        return switch (kind) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - k) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (k - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }

    /** The learning rate of 0-based optimizer step {@code k}. */
    public double lr(int k) {
        return baseLr * factor(k);
    }

    @Override
    public String toString() {
        return kind.id() + "(lr=" + baseLr + ", warmup=" + warmupSteps + ", total=" + totalSteps + ")";
    }
}
