package ai.loro.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loro quickstart}: the main job on an embedded default. Builds a tiny byte-level tokenizer
 * and a random Llama-shaped model, then shows chat generation and per-token log-probabilities end
 * to end. Nothing is downloaded.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Make a tiny model with a tokenizer and show generation and log-probabilities end to end.")
final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/quickstart", paramLabel = "DIR",
            description = "Working folder (default: ${DEFAULT-VALUE}); its model/ and tokenizer/ are rebuilt.")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        Path tokDir = out.resolve("tokenizer");
        Path modelDir = out.resolve("model");
        deleteTree(tokDir);
        deleteTree(modelDir);
        Files.createDirectories(out);
        TinyTokenizers.writeByteLevel(tokDir, "chatml");
        LlamaConfig config;
        try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
            ObjectNode c = new ObjectMapper().createObjectNode();
            c.putArray("architectures").add("LlamaForCausalLM");
            c.put("vocab_size", tok.vocabSize());
            c.put("hidden_size", 64);
            c.put("intermediate_size", 176);
            c.put("num_hidden_layers", 2);
            c.put("num_attention_heads", 4);
            c.put("num_key_value_heads", 2);
            c.put("max_position_embeddings", 512);
            c.put("rms_norm_eps", 1e-5);
            c.put("rope_theta", 10000.0);
            c.put("bos_token_id", tok.bosId());
            c.put("eos_token_id", tok.eosId());
            c.put("pad_token_id", tok.padId());
            c.put("tie_word_embeddings", true);
            config = LlamaConfig.parse(c, "quickstart config");
        }
        say("1. tokenizer  %s (byte-level BPE, %d tokens, ChatML template)", tokDir, config.vocabSize());
        InitModelCommand.write(config, modelDir, tokDir, seed, "F32");
        say("2. model      %s (%s, %,d parameters, random init, safetensors)", modelDir, config.architecture(),
                config.parameterCount());
        try (LlamaModel model = LlamaModel.load(modelDir, DataType.FLOAT32, Device.cpu());
             LoroTokenizer tok = LoroTokenizer.load(modelDir)) {
            String prompt = tok.applyChatTemplate(List.of(ChatMessage.user("What is 2 + 3?")), true);
            long[] ids = tok.encode(prompt, false);
            Generator gen = new Generator(model, Set.of(tok.eosId()), t -> tok.decode(t, true));
            SamplingParams params = new SamplingParams(24, 0.8, 40, 0.95, seed, List.of(), true);
            Generator.Result r = gen.generate(List.of(ids), params).get(0);
            Generator.Timing t = gen.lastTiming();
            say("3. generate   chat prompt %d tokens -> %d new tokens (%s), prefill %.0f tok/s, decode %.0f tok/s",
                    ids.length, r.tokens().length, r.finishReason(), t.prefillTokens() / (t.prefillNanos() / 1e9),
                    t.decodeTokens() / Math.max(1e-9, t.decodeNanos() / 1e9));
            say("   prompt:     %s", prompt.replace("\n", "\\n"));
            say("   completion: %s   (an untrained model: noise is the expected output)", r.text().replace("\n", "\\n"));
            String text = "Loro trains Llama models in Java.";
            long[] textIds = tok.encode(text, true);
            float[] lp = LogprobsCommand.logprobs(model, List.of(textIds)).get(0);
            double sum = 0;
            for (float v : lp) {
                sum += v;
            }
            say("4. logprobs   \"%s\": %d tokens, mean log p = %.3f nats (uniform would be %.3f), perplexity %.1f",
                    text, textIds.length, sum / lp.length, -Math.log(config.vocabSize()), Math.exp(-sum / lp.length));
            StringBuilder sb = new StringBuilder("   first tokens:");
            for (int i = 0; i < Math.min(6, lp.length); i++) {
                sb.append(String.format(" %s=%.2f", printable(tok.decode(new long[] {textIds[i + 1]}, false)), lp[i]));
            }
            say("%s", sb);
        }
        say("Next: ./loro generate --model %s --prompt 'Hi' --chat ; ./loro logprobs --model %s --input IN.jsonl",
                modelDir, modelDir);
        return 0;
    }

    private static String printable(String s) {
        return "'" + s.replace("\n", "\\n") + "'";
    }

    private static void say(String fmt, Object... args) {
        System.out.println(String.format(fmt, args));
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (var s = Files.walk(p)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
