package ai.loro.datasets;

import java.util.ArrayList;
import java.util.List;

/** Builds {@link PreferenceBatch}es: chosen rows, then rejected rows, right-padded to one length. */
public final class PreferenceCollator {
    private PreferenceCollator() {}

    /**
     * Pads all 2B sequences to the longest, rounded up to a multiple of {@code padToMultipleOf} (1 = no
     * rounding).
     */
    public static PreferenceBatch collate(List<EncodedPair> pairs, long padId, int padToMultipleOf) {
        List<Example> rows = new ArrayList<>(2 * pairs.size());
        for (EncodedPair p : pairs) {
            rows.add(p.chosen());
        }
        for (EncodedPair p : pairs) {
            rows.add(p.rejected());
        }
        Batch b = Collator.collate(rows, padId, padToMultipleOf);
        int n = pairs.size();
        int[] prompt = new int[n];
        Double[] margins = new Double[n];
        String[] sources = new String[n];
        for (int i = 0; i < n; i++) {
            prompt[i] = pairs.get(i).promptLength();
            margins[i] = pairs.get(i).margin();
            sources[i] = pairs.get(i).source();
        }
        return new PreferenceBatch(b, prompt, margins, sources);
    }

    public static PreferenceBatch collate(List<EncodedPair> pairs, long padId) {
        return collate(pairs, padId, 1);
    }
}
