package ai.loro.cli.quickstart;

import ai.loro.core.model.BatchScoring;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.rlhf.Prompts;
import java.nio.file.Path;
import ai.loro.datasets.Templates;
import ai.loro.datasets.TurnBoundaries;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Held-out measurements for the quickstart table: greedy and sampled (temperature 1) accuracy of a
 * stage's model on words no stage trained on, and its KL divergence from the SFT model,
 * {@code KL(π ‖ π_sft) = E_{y~π}[log π(y|x) − log π_sft(y|x)]}, estimated from the sampled
 * responses (EOS included) and averaged over prompts, in nats per response.
 */
public final class Evaluation {
    /** One row of the table. */
    public record Row(String stage, double greedyAccuracy, double sampledAccuracy, double klToSft, double meanResponseTokens) {}

    private static final int BATCH = 64;

    private Evaluation() {}

    /** Encoded chat prompts for words, exactly as the PPO stage encodes its prompts. */
    public static List<long[]> prompts(LoroTokenizer tok, List<String> words) {
        return Prompts.encodeAll(tok, words.stream().map(w -> List.of(ChatMessage.user(w))).toList());
    }

    /**
     * Evaluates the model in {@code modelDir} on {@code words}; {@code sft} (may be the same model
     * or null to skip the KL) is the reference for the KL column.
     */
    public static Row evaluate(String stage, Path modelDir, LlamaModel sft, List<String> words, int maxNewTokens, long seed) {
        try (LlamaModel model = LlamaModel.load(modelDir, DataType.FLOAT32, Device.cpu());
             LoroTokenizer tok = LoroTokenizer.load(modelDir)) {
            return evaluate(stage, model, tok, sft, words, maxNewTokens, seed);
        }
    }

    public static Row evaluate(String stage, LlamaModel model, LoroTokenizer tok, LlamaModel sft, List<String> words,
                               int maxNewTokens, long seed) {
        List<long[]> prompts = prompts(tok, words);
        Generator gen = new Generator(model, Set.of(tok.eosId()), t -> tok.decode(t, true));
        int greedyRight = 0;
        int sampledRight = 0;
        double kl = 0;
        long responseTokens = 0;
        Random seeds = new Random(seed);
        for (int from = 0; from < words.size(); from += BATCH) {
            int to = Math.min(words.size(), from + BATCH);
            List<long[]> batch = prompts.subList(from, to);
            List<Generator.Result> greedy = gen.generate(batch, SamplingParams.greedy(maxNewTokens));
            List<Generator.Result> sampled = gen.generate(batch,
                    new SamplingParams(maxNewTokens, 1.0, 0, 1.0, seeds.nextLong(), List.of(), true));
            List<long[]> sequences = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                String word = words.get(from + i);
                greedyRight += ShiftWorld.isCorrect(word, greedy.get(i).text()) ? 1 : 0;
                sampledRight += ShiftWorld.isCorrect(word, sampled.get(i).text()) ? 1 : 0;
                long[] p = batch.get(i);
                long[] r = sampled.get(i).tokens();
                long[] s = new long[p.length + r.length];
                System.arraycopy(p, 0, s, 0, p.length);
                System.arraycopy(r, 0, s, p.length, r.length);
                sequences.add(s);
                responseTokens += r.length;
            }
            if (sft != null && sft != model) {
                List<float[]> lpModel = BatchScoring.tokenLogProbs(model, sequences);
                List<float[]> lpSft = BatchScoring.tokenLogProbs(sft, sequences);
                for (int i = 0; i < batch.size(); i++) {
                    // logprobs[t] scores token t+1: the response's tokens are t = |prompt|-1 .. |seq|-2
                    for (int t = batch.get(i).length - 1; t < sequences.get(i).length - 1; t++) {
                        kl += lpModel.get(i)[t] - lpSft.get(i)[t];
                    }
                }
            }
        }
        int n = words.size();
        return new Row(stage, greedyRight / (double) n, sampledRight / (double) n, sft == null ? Double.NaN : kl / n,
                responseTokens / (double) n);
    }

    /**
     * Pairwise accuracy of a reward model on the held-out words: the right answer against one of
     * the world's kinds of wrong answer ({@link ShiftWorld#wrongAnswer}), each scored as PPO scores a finished rollout: prompt +
     * answer + EOS + the template's tail after it. Returns {accuracy, mean margin}.
     */
    public static double[] rewardAccuracy(Path rewardDir, List<String> words, long seed) {
        try (LlamaModel rm = LlamaModel.load(rewardDir, DataType.FLOAT32, Device.cpu());
             LoroTokenizer tok = LoroTokenizer.load(rewardDir)) {
            List<long[]> prompts = prompts(tok, words);
            long[] tail = TurnBoundaries.finalTurnTailIds(Templates.resolve("tokenizer", tok), tok);
            Random rng = new Random(seed);
            List<long[]> right = new ArrayList<>();
            List<long[]> wrong = new ArrayList<>();
            for (int i = 0; i < words.size(); i++) {
                right.add(withResponse(prompts.get(i), tok, ShiftWorld.answer(words.get(i)), tail));
                wrong.add(withResponse(prompts.get(i), tok, ShiftWorld.wrongAnswer(words.get(i), rng), tail));
            }
            float[] a = score(rm, right);
            float[] b = score(rm, wrong);
            int wins = 0;
            double margin = 0;
            for (int i = 0; i < a.length; i++) {
                wins += a[i] > b[i] ? 1 : 0;
                margin += a[i] - b[i];
            }
            return new double[] {wins / (double) a.length, margin / a.length};
        }
    }

    private static long[] withResponse(long[] prompt, LoroTokenizer tok, String response, long[] tail) {
        long[] r = tok.encode(response, false);
        long[] s = new long[prompt.length + r.length + 1 + tail.length];
        System.arraycopy(prompt, 0, s, 0, prompt.length);
        System.arraycopy(r, 0, s, prompt.length, r.length);
        s[prompt.length + r.length] = tok.eosId();
        System.arraycopy(tail, 0, s, prompt.length + r.length + 1, tail.length);
        return s;
    }

    private static float[] score(LlamaModel rm, List<long[]> seqs) {
        float[][] rows = BatchScoring.classify(rm, seqs, BATCH);
        float[] out = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i][0];
        }
        return out;
    }
}
