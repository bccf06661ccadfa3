package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.NoGrad;
import java.util.Arrays;
import java.util.List;

/**
 * One PPO rollout batch on the host: each row is its prompt left-padded to {@code promptLen},
 * then its response (up to and including EOS) right-padded to {@code responseLen}. Tokens after
 * EOS (and the padding) are masked out of {@code attention} and {@code responseMask}.
 *
 * @param ids (B, P + R) token ids
 * @param attention (B, P + R) 1 = token, 0 = padding
 * @param responseIds (B, R) the response part of {@code ids}
 * @param responseMask (B, R) 1 for response tokens (EOS included), 0 after
 */
public record Rollout(int batch, int promptLen, int responseLen, long[] ids, long[] attention, long[] responseIds,
                      float[] responseMask, List<Prompts.Prompt> prompts, List<Generator.Result> responses) {

    /**
     * The rollout step: samples one response to each prompt with the KV-cache {@code generator}
     * (no gradient; the draws are those of {@code params.seed()}) and lays the batch out.
     */
    public static Rollout generate(Generator generator, List<Prompts.Prompt> prompts, SamplingParams params, long padId) {
        List<Generator.Result> responses;
        try (NoGrad ng = new NoGrad()) {
            responses = generator.generate(prompts.stream().map(Prompts.Prompt::ids).toList(), params);
        }
        return of(prompts, responses, padId);
    }

    public static Rollout of(List<Prompts.Prompt> prompts, List<Generator.Result> responses, long padId) {
        int b = prompts.size();
        int p = 0;
        int r = 1;
        for (int i = 0; i < b; i++) {
            p = Math.max(p, prompts.get(i).ids().length);
            r = Math.max(r, responses.get(i).tokens().length);
        }
        int t = p + r;
        long[] ids = new long[b * t];
        long[] att = new long[b * t];
        long[] resp = new long[b * r];
        float[] mask = new float[b * r];
        Arrays.fill(ids, padId);
        Arrays.fill(resp, padId);
        for (int i = 0; i < b; i++) {
            long[] q = prompts.get(i).ids();
            long[] a = responses.get(i).tokens();
            int off = p - q.length;
            System.arraycopy(q, 0, ids, i * t + off, q.length);
            Arrays.fill(att, i * t + off, i * t + p, 1L);
            System.arraycopy(a, 0, ids, i * t + p, a.length);
            Arrays.fill(att, i * t + p, i * t + p + a.length, 1L);
            System.arraycopy(a, 0, resp, i * r, a.length);
            Arrays.fill(mask, i * r, i * r + a.length, 1f);
        }
        return new Rollout(b, p, r, ids, att, resp, mask, List.copyOf(prompts), List.copyOf(responses));
    }

    /**
     * The rows as a reward model reads them: each response that stopped at EOS gets {@code tail}
     * (the chat template's text after the end-of-turn marker, e.g. ChatML's newline) so the score is
     * read at the same token as in reward-model training; rows are right-padded to
     * {@code length() + tail.length}.
     *
     * @return {ids, attention}, each (B, length() + tail.length)
     */
    public long[][] forRewardModel(long[] tail, long padId) {
        int w = length() + tail.length;
        long[] outIds = new long[batch * w];
        long[] outAtt = new long[batch * w];
        Arrays.fill(outIds, padId);
        for (int i = 0; i < batch; i++) {
            System.arraycopy(ids, i * length(), outIds, i * w, length());
            System.arraycopy(attention, i * length(), outAtt, i * w, length());
            if (endedWithEos(i) && tail.length > 0) {
                int at = i * w + promptLen + responseTokens(i);
                System.arraycopy(tail, 0, outIds, at, tail.length);
                Arrays.fill(outAtt, at, at + tail.length, 1L);
            }
        }
        return new long[][] {outIds, outAtt};
    }

    public int length() {
        return promptLen + responseLen;
    }

    public int responseTokens(int row) {
        return responses.get(row).tokens().length;
    }

    public boolean endedWithEos(int row) {
        return "eos".equals(responses.get(row).finishReason());
    }

    /** Generated tokens in the batch (EOS included). */
    public long generatedTokens() {
        long n = 0;
        for (Generator.Result g : responses) {
            n += g.tokens().length;
        }
        return n;
    }

    /** The given rows of a (B, width) host array, as a (rows, width) array on {@code m}. */
    static NDArray rows(NDManager m, long[] a, int width, int[] rows) {
        long[] out = new long[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(a, rows[i] * width, out, i * width, width);
        }
        return m.create(out, new Shape(rows.length, width));
    }

    static NDArray rows(NDManager m, float[] a, int width, int[] rows) {
        float[] out = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(a, rows[i] * width, out, i * width, width);
        }
        return m.create(out, new Shape(rows.length, width));
    }

    static int[] all(int b) {
        int[] r = new int[b];
        for (int i = 0; i < b; i++) {
            r[i] = i;
        }
        return r;
    }
}
