package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** torch.amp.GradScaler's update rule, step by step. */
class LossScalerTest {
    @Test
    void defaultsAreTorchGradScalers() {
        LossScaler s = LossScaler.defaults();
        assertEquals(65536.0, s.scale());
        for (int i = 0; i < 1999; i++) {
            assertTrue(s.update(false));
        }
        assertEquals(65536.0, s.scale());
        assertEquals(1999, s.growthTracker());
        assertTrue(s.update(false));
        assertEquals(131072.0, s.scale()); // 2000 good steps: × 2, tracker reset
        assertEquals(0, s.growthTracker());
    }

    @Test
    void overflowSkipsTheStepHalvesTheScaleAndResetsTheTracker() {
        LossScaler s = new LossScaler(1024, 2, 0.5, 3);
        assertTrue(s.update(false));
        assertTrue(s.update(false));
        assertFalse(s.update(true)); // skipped
        assertEquals(512.0, s.scale());
        assertEquals(0, s.growthTracker());
        assertFalse(s.update(true));
        assertEquals(256.0, s.scale());
        assertTrue(s.update(false));
        assertTrue(s.update(false));
        assertTrue(s.update(false));
        assertEquals(512.0, s.scale()); // three good steps in a row
        s.restore(8.0, 2);
        assertEquals(8.0, s.scale());
        assertTrue(s.update(false));
        assertEquals(16.0, s.scale());
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(0, 2, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(1, 2, 1.0, 1));
    }

    @Test
    void calibrationDividesByTheStepsTokensOnceAndNeverAfterARestore() {
        LossScaler s = LossScaler.defaults();
        s.calibrate(1000); // 2^16 / 512
        assertEquals(128.0, s.scale());
        s.calibrate(4);
        assertEquals(128.0, s.scale());
        LossScaler tiny = LossScaler.defaults();
        tiny.calibrate(1L << 20);
        assertEquals(1.0, tiny.scale()); // never below 1
        LossScaler resumed = LossScaler.defaults();
        resumed.restore(32.0, 5);
        resumed.calibrate(1000);
        assertEquals(32.0, resumed.scale());
    }
}
