package ai.loro.core.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Switches libtorch's (thread-local) grad mode off for a block and restores what it was afterwards
 * (not "on": a no-grad block inside another must leave grad mode off).
 * {@code try (NoGrad ng = new NoGrad()) { ... }}
 */
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
