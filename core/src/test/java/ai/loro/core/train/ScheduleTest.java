package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import org.junit.jupiter.api.Test;

/** Schedules at chosen steps against transformers' formulas worked out by hand (warmup 2, total 10). */
class ScheduleTest {
    private static final double LR = 2e-3;

    @Test
    void warmupStartsAtZero() {
        for (Schedule.Kind k : Schedule.Kind.values()) {
            Schedule s = new Schedule(k, LR, 2, 10);
            assertEquals(0.0, s.lr(0), 0, k.id());
            assertEquals(LR * 0.5, s.lr(1), 0, k.id());
            assertEquals(LR, s.lr(2), 1e-18, k.id());
        }
    }

    @Test
    void constant() {
        Schedule s = new Schedule(Schedule.Kind.CONSTANT, LR, 2, 10);
        assertEquals(LR, s.lr(7), 0);
        assertEquals(LR, s.lr(10), 0);
        assertEquals(LR, new Schedule(Schedule.Kind.CONSTANT, LR, 0, 10).lr(0), 0);
    }

    @Test
    void linear() {
        Schedule s = new Schedule(Schedule.Kind.LINEAR, LR, 2, 10);
        assertEquals(LR * 8 / 8, s.lr(2), 0); // (10 - 2) / (10 - 2)
        assertEquals(LR * 0.5, s.lr(6), 0); // (10 - 6) / 8
        assertEquals(LR * 0.125, s.lr(9), 0); // 1 / 8
        assertEquals(0.0, s.lr(10), 0);
        assertEquals(0.0, s.lr(12), 0); // clamped at 0
        Schedule noWarmup = new Schedule(Schedule.Kind.LINEAR, 1.0, 0, 4);
        assertEquals(1.0, noWarmup.lr(0), 0);
        assertEquals(0.75, noWarmup.lr(1), 0);
    }

    @Test
    void cosine() {
        Schedule s = new Schedule(Schedule.Kind.COSINE, 1.0, 2, 10);
        assertEquals(1.0, s.lr(2), 1e-15); // progress 0: 0.5·(1 + cos 0)
        assertEquals(0.5 + 0.5 * Math.sqrt(0.5), s.lr(4), 1e-15); // progress 1/4: 0.5·(1 + cos(π/4))
        assertEquals(0.5, s.lr(6), 1e-15); // progress 1/2: 0.5·(1 + cos(π/2))
        assertEquals(0.5 - 0.5 * Math.sqrt(0.5), s.lr(8), 1e-15); // progress 3/4
        assertEquals(0.0, s.lr(10), 1e-15); // progress 1: 0.5·(1 + cos π)
    }

    @Test
    void warmupRatioRoundsUp() {
        assertEquals(3, Schedule.warmupSteps(0.03, 100)); // 100 · 0.03 = 3.0 in doubles
        assertEquals(8, Schedule.warmupSteps(0.07, 100)); // 100 · 0.07 = 7.000000000000001: Python's ceil gives 8 too
        assertEquals(1, Schedule.warmupSteps(0.01, 10));
        assertEquals(0, Schedule.warmupSteps(0, 10));
    }

    @Test
    void parsesNames() {
        assertEquals(Schedule.Kind.COSINE, Schedule.Kind.parse("cosine"));
        assertEquals(Schedule.Kind.CONSTANT, Schedule.Kind.parse("constant_with_warmup"));
        LoroException e = assertThrows(LoroException.class, () -> Schedule.Kind.parse("polynomial"));
        assertTrue(e.getMessage().contains("allowed: constant, linear, cosine"), e.getMessage());
    }
}
