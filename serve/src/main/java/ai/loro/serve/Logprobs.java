package ai.loro.serve;

/**
 * Log-probabilities from one row of logits, in double precision: {@code logit - logsumexp(logits)}, of the model's
 * own distribution (before temperature and top-p, as vLLM reports them by default).
 */
final class Logprobs {
    private Logprobs() {}

    static Sequence.TokenLogprob of(float[] logits, int token, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : logits) {
            max = Math.max(max, f);
        }
        double sum = 0;
        for (float f : logits) {
            sum += Math.exp(f - max);
        }
        double lse = max + Math.log(sum);
        long[] ids = new long[top];
        float[] lps = new float[top];
        // top-k by a simple insertion into a sorted array (k <= 20); ties keep the lower id first
        int filled = 0;
        for (int i = 0; i < logits.length && top > 0; i++) {
            float v = logits[i];
            if (filled == top && v <= logits[(int) ids[top - 1]]) {
                continue;
            }
            int at = Math.min(filled, top - 1);
            while (at > 0 && logits[(int) ids[at - 1]] < v) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
            filled = Math.min(top, filled + 1);
        }
        for (int i = 0; i < top; i++) {
            lps[i] = (float) (logits[(int) ids[i]] - lse);
        }
        return new Sequence.TokenLogprob(token, (float) (logits[token] - lse), ids, lps);
    }
}
