package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.generate.Generator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-row reward sum and the score statistics PPO logs, against hand arithmetic. */
class RolloutScoringTest {
    private static Rollout rollout(String... responses) {
        List<Prompts.Prompt> ps = new java.util.ArrayList<>();
        List<Generator.Result> rs = new java.util.ArrayList<>();
        for (String r : responses) {
            ps.add(new Prompts.Prompt(new long[] {1}, "p", "ab", "t"));
            rs.add(new Generator.Result(new long[] {2}, r, "eos", null));
        }
        return Rollout.of(ps, rs, 0);
    }

    @Test
    void rewardsAreSummedPerRowInListOrder() {
        Rollout ro = rollout("ab", "xyz");
        RolloutReward model = (r, m) -> new double[] {0.25, -1.5};
        RolloutReward exact = RolloutReward.of(RewardFunction.of("exact_match"));
        RolloutReward length = RolloutReward.of(RewardFunction.of("length_penalty:2"));
        assertArrayEquals(new double[] {1, 0}, exact.score(ro, null));
        // row 0: 0.25 + 1 + 0; row 1: −1.5 + 0 − (3 − 2) / 2
        assertArrayEquals(new double[] {1.25, -2.0}, RolloutReward.sum(List.of(model, exact, length), ro, null));
        assertArrayEquals(new double[] {0, 0}, RolloutReward.sum(List.of(), ro, null));
    }

    @Test
    void meanAndSampleStandardDeviation() {
        double[] s = {1, 2, 6};
        assertEquals(3.0, RolloutScoring.mean(s), 1e-15);
        // Σ (s − 3)² = 4 + 1 + 9 = 14, / (3 − 1) = 7
        assertEquals(Math.sqrt(7), RolloutScoring.std(s, 3.0), 1e-15);
        assertEquals(0.0, RolloutScoring.std(new double[] {5}, 5.0), "one score: n − 1 floored at 1");
    }
}
