package ai.loro.cli.bench;

import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.DecodeProfile;
import ai.loro.core.model.LlamaModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** {@code loro bench --profile-decode} and {@code loro bench --decode-only}: single-stream decode figures. */
public final class DecodeBench {
    private DecodeBench() {}

    /** The decode step's parts in ms per token (docs/decode-profile.md). */
    public static int profile(LlamaModel model, int context, int steps, boolean jsonOnly) throws Exception {
        Map<String, Double> parts = DecodeProfile.run(model, context, steps);
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("context", context).put("steps", steps).put("threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
        ObjectNode p = r.putObject("ms_per_token");
        parts.forEach((k, v) -> p.put(k, Math.round(v * 1000) / 1000.0));
        if (!jsonOnly) {
            System.out.printf("decode step at context %d, mean of %d steps, libtorch intra-op threads %d%n", context, steps,
                    ai.djl.pytorch.jni.JniUtils.getNumThreads());
            System.out.printf("%-46s %10s%n", "part", "ms/token");
            parts.forEach((k, v) -> System.out.printf("%-46s %10.3f%n", k, v));
        }
        System.out.println(json.writeValueAsString(r));
        return 0;
    }

    /** Greedy generation of {@code newTokens} after each prompt, every timed iteration listed. */
    public static int decode(LlamaModel model, int batch, int seq, int newTokens, int iters, long[] promptIds,
                             boolean jsonOnly) throws Exception {
        List<long[]> rows = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(1);
        for (int b = 0; b < batch; b++) {
            if (promptIds != null) {
                if (promptIds.length == 0) {
                    throw new LoroException("--prompt-ids: give at least one token id");
                }
                model.checkTokenIds(promptIds, "--prompt-ids");
                rows.add(promptIds.clone());
            } else {
                long[] ids = new long[seq];
                for (int i = 0; i < seq; i++) {
                    ids[i] = rng.nextInt(model.config().vocabSize());
                }
                rows.add(ids);
            }
        }
        Generator gen = new Generator(model, Set.of(), null);
        SamplingParams greedy = new SamplingParams(newTokens, 0, 0, 1, 0, List.of(), false);
        gen.generate(rows, greedy); // warm-up: libtorch's first passes per shape are slower
        double[] prefill = new double[iters];
        double[] decode = new double[iters];
        long[] first = null;
        for (int i = 0; i < iters; i++) {
            List<Generator.Result> out = gen.generate(rows, greedy);
            first = out.get(0).tokens();
            Generator.Timing t = gen.lastTiming();
            prefill[i] = t.prefillTokens() / (t.prefillNanos() / 1e9);
            decode[i] = t.decodeTokens() / (t.decodeNanos() / 1e9);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("engine", "loro").put("batch", batch).put("prompt_tokens", rows.get(0).length).put("new_tokens", newTokens);
        r.put("threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
        ArrayNode p = r.putArray("prefill_tokens_per_s");
        ArrayNode d = r.putArray("decode_tokens_per_s");
        for (int i = 0; i < iters; i++) {
            p.add(round(prefill[i]));
            d.add(round(decode[i]));
        }
        ArrayNode tokens = r.putArray("greedy_tokens");
        for (long t : first) {
            tokens.add(t);
        }
        if (!jsonOnly) {
            double[] ps = prefill.clone();
            double[] ds = decode.clone();
            Arrays.sort(ps);
            Arrays.sort(ds);
            System.out.printf("loro greedy, batch %d, prompt %d tokens, %d new tokens, %d libtorch threads, %d iterations%n",
                    batch, rows.get(0).length, newTokens, ai.djl.pytorch.jni.JniUtils.getNumThreads(), iters);
            System.out.printf("prefill tokens/s min %.1f median %.1f max %.1f%n", ps[0], ps[iters / 2], ps[iters - 1]);
            System.out.printf("decode tokens/s  min %.1f median %.1f max %.1f%n", ds[0], ds[iters / 2], ds[iters - 1]);
        }
        System.out.println(json.writeValueAsString(r));
        return 0;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
