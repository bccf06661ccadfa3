package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.generate.Generator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** GRPO's host-side pieces: truncated completions masked out, length metrics, weighted rewards with per-source metrics. */
class GrpoScoringTest {
    static Rollout rollout() {
        Prompts.Prompt p = new Prompts.Prompt(new long[] {1}, "p", "ab", "t");
        return Rollout.of(List.of(p, p, p), List.of(new Generator.Result(new long[] {5, 2}, "ab", "eos", null),
                new Generator.Result(new long[] {5, 6, 7}, "abc", "length", null),
                new Generator.Result(new long[] {2}, "", "eos", null)), 0);
    }

    @Test
    void truncatedCompletionsAreMaskedOut() {
        Rollout ro = rollout();
        assertArrayEquals(new float[] {1, 1, 0, 1, 1, 1, 1, 0, 0}, ro.responseMask());
        assertArrayEquals(new float[] {1, 1, 0, 0, 0, 0, 1, 0, 0}, GrpoScoring.withoutTruncated(ro).responseMask(),
                "row 1 hit the limit without EOS");
        Map<String, Double> m = new LinkedHashMap<>();
        GrpoScoring.lengths(ro, m);
        assertEquals(2.0, m.get("completions/mean_length"), 1e-15);
        assertEquals(1.0, m.get("completions/min_length"));
        assertEquals(3.0, m.get("completions/max_length"));
        assertEquals(1 / 3.0, m.get("completions/clipped_ratio"), 1e-15);
        assertEquals(1.5, m.get("completions/mean_terminated_length"), 1e-15, "(2 + 1) / 2");
    }

    @Test
    void rewardsAreWeightedAndReportedPerSource() {
        Rollout ro = rollout();
        GrpoRewards r = GrpoRewards.of(List.of("exact_match", "regex:a.*"),
                List.of(RolloutReward.of(RewardFunction.of("exact_match")), RolloutReward.of(RewardFunction.of("regex:a.*"))),
                List.of(2.0, -0.5));
        GrpoRewards.Scored s = r.score(ro, null);
        // exact [1, 0, 0], regex [1, 1, 0]: 2·1 − 0.5·1, −0.5, 0
        assertArrayEquals(new double[] {1.5, -0.5, 0}, s.total(), 1e-15);
        assertEquals(1 / 3.0, s.metrics().get("rewards/exact_match/mean"), 1e-15);
        assertEquals(2 / 3.0, s.metrics().get("rewards/regex:a.*/mean"), 1e-15);
        assertEquals(Math.sqrt(1 / 3.0), s.metrics().get("rewards/exact_match/std"), 1e-15, "sample std of [1, 0, 0]");
        assertTrue(assertThrows(ai.loro.core.LoroException.class, () -> GrpoRewards.of(List.of("a"),
                List.of((x, m) -> new double[0]), List.of(1.0, 2.0))).getMessage().contains("one weight per reward"));
    }

    @Test
    void regexRewardMatchesTheWholeResponse() {
        RewardFunction f = RewardFunction.of("regex:^[a-h]{4}$");
        assertEquals(1, f.score("", "dbgf", null));
        assertEquals(0, f.score("", "dbgfa", null));
        assertEquals(0, f.score("", " dbgf", null));
        assertEquals(1, RewardFunction.of("regex:<think>.*</think>.*").score("", "<think>a\nb</think>x", null), "dot matches newlines");
        assertTrue(assertThrows(ai.loro.core.LoroException.class, () -> RewardFunction.of("regex:([a")).getMessage()
                .contains("not a valid regular expression"));
    }
}
