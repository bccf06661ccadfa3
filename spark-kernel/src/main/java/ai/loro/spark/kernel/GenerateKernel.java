package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.BatchScoring;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.NoGrad;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import ai.loro.datasets.Templates;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code loro generate} as a kernel, K samples per prompt: each output row is one sample of one input row, with
 * {@code sample}, {@code completion}, {@code tokens}, {@code finish_reason} and, given a reward model, {@code reward}.
 * Sample s of row r is drawn with seed {@link Seeds#of}(seed, r, s). A batch holds {@code max(1, batchSize / K)}
 * prompts' samples; with K = 1 the batches are {@code loro generate}'s (same rows, same order), so greedy output equals it.
 *
 * @param sampling sampling settings; its seed is the job seed
 * @param rewardModel a reward model folder (null = no reward); samples are scored as pairs are in training
 *                    (prompt, then the completion as the response) through {@code template}
 */
public record GenerateKernel(String input, String model, String adapter, boolean chat, String system,
                             Sampling sampling, int numSamples, int batchSize, String rewardModel,
                             String rewardAdapter, String template, int sequenceLen) implements Kernel {
    /** {@link SamplingParams} as data a closure can carry (checked when built). */
    public record Sampling(int maxNewTokens, double temperature, int topK, double topP, long seed, List<String> stop)
            implements java.io.Serializable {
        public Sampling {
            stop = List.copyOf(stop);
            params(maxNewTokens, temperature, topK, topP, seed, stop);
        }

        public SamplingParams params() {
            return params(maxNewTokens, temperature, topK, topP, seed, stop);
        }

        private static SamplingParams params(int n, double t, int k, double p, long seed, List<String> stop) {
            return new SamplingParams(n, t, k, p, seed, stop, true);
        }
    }

    public GenerateKernel {
        Kernel.atLeastOne("--batch-size", batchSize);
        Kernel.atLeastOne("--num-samples", numSamples);
    }

    @Override
    public int rowsPerBatch() {
        return Math.max(1, batchSize / numSamples);
    }

    @Override
    public List<Field> fields() {
        List<Field> f = new ArrayList<>(List.of(new Field("sample", Field.Type.LONG), new Field("completion", Field.Type.STRING),
                new Field("tokens", Field.Type.LONG_ARRAY), new Field("finish_reason", Field.Type.STRING)));
        if (rewardModel != null) {
            f.add(new Field("reward", Field.Type.DOUBLE));
        }
        return f;
    }

    private record Prompt(ObjectNode json, String text, long[] ids, boolean chatRendered, ChatMessage user) {}

    @Override
    public List<ObjectNode> process(List<InputRow> batch) {
        LlamaModel m = ModelCache.causalLm(model, adapter);
        LoroTokenizer tok = ModelCache.hasTokenizer(model) ? ModelCache.tokenizer(model, "generation") : null;
        List<Prompt> prompts = new ArrayList<>();
        boolean anyChat = false;
        for (InputRow r : batch) {
            Prompt p = prompt(Inputs.parse(input, r), tok, Inputs.where(input, r));
            anyChat |= p.chatRendered();
            prompts.add(p);
        }
        Set<Long> eos = new LinkedHashSet<>(m.config().eosTokenIds());
        if (tok != null && tok.eosId() != null) {
            eos.add(tok.eosId());
        }
        GenerationConfig gen = GenerationConfig.read(Path.of(model), m.config().vocabSize());
        if (gen != null) {
            eos.addAll(gen.eosTokenIds());
        }
        if (anyChat) { // as loro generate: chat prompts also stop at the template's end-of-turn tokens
            eos.addAll(StopTokens.ids(tok));
        }
        SamplingParams params = sampling.params();
        List<long[]> ids = new ArrayList<>();
        long[] seeds = new long[prompts.size() * numSamples];
        for (int i = 0; i < prompts.size(); i++) {
            for (int s = 0; s < numSamples; s++) {
                ids.add(prompts.get(i).ids());
                seeds[i * numSamples + s] = Seeds.of(params.seed(), batch.get(i).row(), s);
            }
        }
        List<Generator.Result> results;
        try (NoGrad ng = new NoGrad()) {
            results = new Generator(m, eos, tok == null ? null : t -> tok.decode(t, true)).generate(ids, params, seeds);
        }
        double[] rewards = rewardModel == null ? null : rewards(prompts, results);
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            for (int s = 0; s < numSamples; s++) {
                Generator.Result res = results.get(i * numSamples + s);
                ObjectNode o = Inputs.output(prompts.get(i).json(), batch.get(i).row());
                o.put("sample", s);
                o.put("completion", res.text());
                ArrayNode tokens = o.putArray("tokens");
                for (long t : res.tokens()) {
                    tokens.add(t);
                }
                o.put("finish_reason", res.finishReason());
                if (rewards != null) {
                    o.put("reward", rewards[i * numSamples + s]);
                }
                out.add(o);
            }
        }
        return out;
    }

    /**
     * Each sample scored as {@code loro score} scores a conversation: {@code [user: prompt, assistant: completion]}
     * rendered with the reward model's chat template.
     */
    private double[] rewards(List<Prompt> prompts, List<Generator.Result> results) {
        LlamaModel rm = ModelCache.rewardModel(rewardModel, rewardAdapter);
        LoroTokenizer tok = ModelCache.tokenizer(rewardModel, "scoring samples");
        ChatTemplate t = Templates.resolve(template, tok);
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            if (p.user() == null) {
                throw new LoroException("--reward-model needs text prompts (\"prompt\" or a single user turn in"
                        + " \"messages\"), not token ids");
            }
            for (int s = 0; s < numSamples; s++) {
                String completion = results.get(i * numSamples + s).text();
                List<ChatMessage> conversation = List.of(p.user(), ChatMessage.assistant(completion));
                long[] ids = tok.encode(t.render(conversation, false, tok.specialTokensMap()), false);
                if (ids.length > sequenceLen) {
                    throw new LoroException("a sample of \"" + p.text() + "\" has " + ids.length + " tokens for the reward"
                            + " model, more than --sequence-len " + sequenceLen);
                }
                rm.checkTokenIds(ids, "a sample");
                rows.add(ids);
            }
        }
        float[][] s = BatchScoring.classify(rm, rows, Math.max(1, rows.size()));
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i][0];
        }
        return out;
    }

    private Prompt prompt(ObjectNode j, LoroTokenizer tok, String where) {
        long[] ids = Inputs.tokenIds(j, "input_ids", where);
        if (ids != null) {
            return new Prompt(j, null, ids, false, null);
        }
        if (tok == null) {
            throw new LoroException(model + ": no tokenizer.json, needed to tokenize the prompt (" + where
                    + "); give \"input_ids\" instead");
        }
        if (j.has("messages")) {
            List<ChatMessage> messages = Inputs.messages(j.get("messages"), where);
            ChatMessage user = messages.size() == 1 && messages.get(0).role().equals("user") ? messages.get(0) : null;
            return chatPrompt(j, messages, tok, user);
        }
        if (!j.path("prompt").isTextual()) {
            throw new LoroException(where + ": needs \"prompt\" (string), \"messages\" or \"input_ids\"");
        }
        String text = j.get("prompt").asText();
        if (chat) {
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null) {
                messages.add(ChatMessage.system(system));
            }
            messages.add(ChatMessage.user(text));
            return chatPrompt(j, messages, tok, ChatMessage.user(text));
        }
        return new Prompt(j, text, tok.encode(text, true), false, ChatMessage.user(text));
    }

    private static Prompt chatPrompt(ObjectNode j, List<ChatMessage> messages, LoroTokenizer tok, ChatMessage user) {
        String rendered = tok.applyChatTemplate(messages, true);
        // the template writes BOS itself where the model wants one (transformers: add_special_tokens=False)
        return new Prompt(j, rendered, tok.encode(rendered, false), true, user);
    }
}
