package ai.loro.datasets;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What to do with a bad row (malformed line, missing or wrong field, template failure for that
 * row): throw its {@link LoroException} (the default), or, when skipping, count it and keep the
 * first few messages for the report.
 */
public final class BadRows {
    private static final int KEEP = 10;
    private final boolean skip;
    private int count;
    private final List<String> messages = new ArrayList<>();

    public BadRows(boolean skip) {
        this.skip = skip;
    }

    public static BadRows failFast() {
        return new BadRows(false);
    }

    public static BadRows skipAndCount() {
        return new BadRows(true);
    }

    public boolean skipping() {
        return skip;
    }

    /** Throws e when not skipping; otherwise counts it. */
    public void handle(LoroException e) {
        if (!skip) {
            throw e;
        }
        count++;
        if (messages.size() < KEEP) {
            messages.add(e.getMessage());
        }
    }

    /**
     * Applies {@code encode} to every item, keeping the non-null results; a row's {@link LoroException}
     * is thrown or skipped and counted, except a data-set-wide one ({@code TemplateNotPrefixStable}),
     * which always stops.
     */
    public <S, T> java.util.List<T> encodeEach(java.util.List<? extends S> items, java.util.function.Function<S, T> encode) {
        java.util.List<T> out = new java.util.ArrayList<>(items.size());
        for (S item : items) {
            T e;
            try {
                e = encode.apply(item);
            } catch (ExampleEncoder.TemplateNotPrefixStable ex) {
                throw ex;
            } catch (LoroException ex) {
                handle(ex);
                continue;
            }
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    public int count() {
        return count;
    }

    /** The first (up to 10) messages of skipped rows. */
    public List<String> messages() {
        return Collections.unmodifiableList(messages);
    }
}
