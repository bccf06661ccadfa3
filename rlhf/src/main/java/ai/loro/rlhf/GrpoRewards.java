package ai.loro.rlhf;

import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GRPO's reward: each source's score of every completion times its weight, summed per completion
 * from 0 in list order (TRL's {@code reward_weights}). Sources, in order: the reward model, the
 * recipe's {@code reward_functions}, the classifier. Each source's unweighted mean and standard
 * deviation are metrics under {@code rewards/<name>/mean} and {@code rewards/<name>/std}.
 */
public final class GrpoRewards {
    /** One reward with its metric name and weight. */
    public record Source(String name, RolloutReward reward, double weight) {}

    /** (B) the weighted sums and the per-source metrics in logging order. */
    public record Scored(double[] total, Map<String, Double> metrics) {}

    private final List<Source> sources;

    public GrpoRewards(List<Source> sources) {
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("no rewards");
        }
        this.sources = List.copyOf(sources);
    }

    /**
     * Names with their rewards and the recipe's {@code weights} (one per source, in order; empty =
     * all 1); a count that differs is a one-line error listing the sources.
     */
    public static GrpoRewards of(List<String> names, List<RolloutReward> rewards, List<Double> weights) {
        if (!weights.isEmpty() && weights.size() != names.size()) {
            throw new LoroException("grpo.reward_weights has " + weights.size() + " entries but there are " + names.size()
                    + " rewards (in order: " + String.join(", ", names) + "); give one weight per reward or none");
        }
        List<Source> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            out.add(new Source(names.get(i), rewards.get(i), weights.isEmpty() ? 1.0 : weights.get(i)));
        }
        return new GrpoRewards(out);
    }

    public List<Source> sources() {
        return sources;
    }

    public Scored score(Rollout ro, NDManager m) {
        double[] total = new double[ro.batch()];
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (Source s : sources) {
            double[] x = s.reward().score(ro, m);
            for (int i = 0; i < total.length; i++) {
                total[i] += s.weight() * x[i];
            }
            double mean = RolloutScoring.mean(x);
            metrics.put("rewards/" + s.name() + "/mean", mean);
            metrics.put("rewards/" + s.name() + "/std", RolloutScoring.std(x, mean));
        }
        return new Scored(total, metrics);
    }
}
