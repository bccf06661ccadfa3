package ai.loro.core.train;

import ai.djl.pytorch.jni.JniUtils;

/** Switches libtorch's (thread-local) grad mode off for a block and restores it afterwards. */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    public NoGrad() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
