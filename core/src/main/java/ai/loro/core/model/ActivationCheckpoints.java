package ai.loro.core.model;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The pending second halves of checkpointed forward passes ({@link LlamaModel#setGradientCheckpointing}).
 * A checkpointed forward pass runs its decoder layers without autograd and leaves a segment here;
 * after the loss's backward pass, {@link #backward()} re-runs each segment's layers under autograd and
 * carries the gradient down to the parameters. Per thread, like libtorch's grad mode.
 */
public final class ActivationCheckpoints {
    /** One checkpointed forward pass waiting for its backward half. */
    interface Segment {
        /** Re-runs the layers and back-propagates into the parameters; frees the saved layer inputs. */
        void backward();

        /** Frees the saved layer inputs without a backward pass. */
        void discard();
    }

    private static final ThreadLocal<Deque<Segment>> PENDING = ThreadLocal.withInitial(ArrayDeque::new);

    private ActivationCheckpoints() {}

    static void push(Segment s) {
        PENDING.get().push(s);
    }

    /**
     * Completes the backward pass of every checkpointed forward pass since the last call, newest
     * first. Call it right after {@code GradientCollector.backward(loss)}, while the collector is open;
     * a no-op when nothing was checkpointed.
     */
    public static void backward() {
        Deque<Segment> pending = PENDING.get();
        try {
            while (!pending.isEmpty()) {
                pending.pop().backward();
            }
        } finally {
            discard();
        }
    }

    /** Drops pending segments (a forward pass under autograd that was never back-propagated). */
    public static void discard() {
        Deque<Segment> pending = PENDING.get();
        while (!pending.isEmpty()) {
            pending.pop().discard();
        }
    }

    /** The number of segments waiting for {@link #backward()}. */
    public static int pending() {
        return PENDING.get().size();
    }
}
