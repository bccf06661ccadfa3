package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The frame switches train/eval mode itself: off during evaluations, back as it was afterwards; the step set per step. */
class TrainModeTest {
    /** Records every switch. */
    static final class Recorder implements TrainMode {
        boolean training = true;
        final List<String> events = new ArrayList<>();

        @Override
        public void setTraining(boolean on) {
            training = on;
            events.add("training=" + on);
        }

        @Override
        public boolean isTraining() {
            return training;
        }

        @Override
        public void setStep(long step) {
            events.add("step=" + step);
        }
    }

    @Test
    void evaluationRunsWithTrainingOffAndRestoresTheModeEvenWhenItThrows() {
        Recorder mode = new Recorder();
        boolean[] seen = new boolean[1];
        EvalLoss eval = EvalLoss.inEvalMode(mode, (m, step) -> {
            seen[0] = mode.isTraining();
            return new EvalLoss.Result(3, 2);
        });
        assertEquals(1.5, eval.evaluate(null, 1).loss());
        assertFalse(seen[0]);
        assertTrue(mode.isTraining());
        EvalLoss failing = EvalLoss.inEvalMode(mode, (m, step) -> {
            throw new IllegalStateException("boom");
        });
        assertThrows(IllegalStateException.class, () -> failing.evaluate(null, 2));
        assertTrue(mode.isTraining());
        mode.training = false; // evaluating from eval mode leaves it in eval mode
        eval.evaluate(null, 3);
        assertFalse(mode.isTraining());
        EvalLoss plain = (m, step) -> new EvalLoss.Result(0, 0);
        assertSame(plain, EvalLoss.inEvalMode(null, plain));
        assertTrue(Double.isNaN(plain.evaluate(null, 0).loss()));
    }

    @Test
    void steppingSetsTheStepBeforeEachStepsFirstMicroBatchOnly() {
        Recorder mode = new Recorder();
        MicroBatchLoss loss = MicroBatchLoss.stepping(mode, (m, step, micro) -> {
            mode.events.add("loss " + step + "." + micro);
            return null;
        });
        for (int step = 0; step < 2; step++) {
            for (int micro = 0; micro < 2; micro++) {
                loss.compute((NDManager) null, step, micro);
            }
        }
        assertEquals(List.of("step=0", "loss 0.0", "loss 0.1", "step=1", "loss 1.0", "loss 1.1"), mode.events);
    }
}
