package ai.loro.datasets;

import ai.loro.core.tokenizer.LoroTokenizer;

/**
 * BOS for chat renders: a render is tokenized without special tokens, so the BOS the tokenizer
 * would add (Llama 3's post-processor) is prepended here, unless the template wrote it into the
 * text already. One rule for the SFT and preference encoders, PPO prompts and the quickstart.
 */
public final class Bos {
    private Bos() {}

    /** The tokenizer's BOS when encoding with special tokens adds one, else null. */
    public static Long toPrepend(LoroTokenizer tokenizer) {
        long[] with = tokenizer.encode("a", true);
        long[] without = tokenizer.encode("a", false);
        Long bos = tokenizer.bosId();
        return bos != null && with.length > without.length && with[0] == bos ? bos : null;
    }

    /** Whether {@code rendered}'s tokens need {@code bos} (from {@link #toPrepend}) in front. */
    public static boolean needed(String rendered, Long bos, LoroTokenizer tokenizer) {
        return bos != null && (tokenizer.bosToken() == null || !rendered.startsWith(tokenizer.bosToken()));
    }

    /** {@code ids} (the render tokenized without special tokens) with BOS in front when {@link #needed}. */
    public static long[] prepend(long[] ids, String rendered, Long bos, LoroTokenizer tokenizer) {
        if (!needed(rendered, bos, tokenizer)) {
            return ids;
        }
        long[] out = new long[ids.length + 1];
        out[0] = bos;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
