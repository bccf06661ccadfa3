package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.io.Jsonl;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loro generate}: continue prompts with the KV-cache generator. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate continuations of a prompt, or of each line of a JSON Lines file.",
            "Input lines hold \"prompt\" (text), \"messages\" ([{role, content}], implies --chat) or \"input_ids\".",
            "With --input, each output line holds \"prompt\", \"completion\", \"tokens\" and \"finish_reason\".",
            "Stops at config.json's eos_token_id, the tokenizer's EOS and generation_config.json's eos_token_id; chat prompts"
                + " (--chat or \"messages\") also stop at the chat template's end-of-turn tokens (e.g. <|eot_id|>, <|im_end|>).",
            "Defaults from the model's generation_config.json apply where the matching flag is not given: temperature,"
                + " top_p, top_k and do_sample (false = greedy; as in transformers the file's temperature is used only with"
                + " do_sample true), max_new_tokens, else max_length (prompt + new tokens); stderr names the ones used."
                + " repetition_penalty is not supported and is ignored."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    static final class Source {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "One prompt.") String prompt;
        @Option(names = "--input", paramLabel = "IN.jsonl", description = "Prompts, one JSON object per line.") Path input;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;

    @Option(names = "--output", paramLabel = "OUT.jsonl", description = "With --input: output file (default: standard output).")
    Path output;

    @Option(names = "--chat", description = "Render each prompt as a user message through the chat template.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message first.")
    String system;

    @Option(names = "--template", paramLabel = "NAME",
            description = "With --chat: a built-in template instead of the tokenizer's (${COMPLETION-CANDIDATES}).",
            completionCandidates = TemplateNames.class)
    String template;

    // null = not given: generation_config.json's value, else Loro's default (Defaults.resolve)
    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Default: generation_config.json's max_new_tokens (or max_length), else 64.") Integer maxNewTokens;
    @Option(names = "--temperature", paramLabel = "T",
            description = "0 = greedy (default: generation_config.json's with do_sample true, else 0).") Double temperature;
    @Option(names = "--top-k", paramLabel = "K", description = "0 = off (default: generation_config.json's, else 0).") Integer topK;
    @Option(names = "--top-p", paramLabel = "P", description = "1 = off (default: generation_config.json's, else 1).") Double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop string (repeatable); the output is cut before it.")
    List<String> stop = new ArrayList<>();
    @Option(names = "--no-eos-stop", description = "Keep generating after an end-of-sequence token.") boolean noEosStop;
    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts per batch (default: ${DEFAULT-VALUE}).") int batchSize;

    static final class TemplateNames extends ArrayList<String> {
        TemplateNames() {
            super(ChatTemplate.builtinNames());
        }
    }

    private record Prompt(String text, long[] ids) {}

    @Spec CommandSpec spec;

    /** Set when a prompt went through a chat template: its end-of-turn tokens then end generation too. */
    private boolean chatRendered;

    /**
     * The sampling settings of a run: each flag given (non-null) wins, else the model's generation_config.json
     * (may be null), else Loro's default. {@code maxLength} (> 0) is generation_config.json's max_length, used
     * when neither --max-new-tokens nor max_new_tokens is given: each prompt then gets max_length − its length.
     */
    record Defaults(int maxNewTokens, int maxLength, double temperature, int topK, double topP, List<String> applied) {
        static Defaults resolve(GenerationConfig gen, Integer maxNewTokens, Double temperature, Integer topK, Double topP) {
            List<String> applied = new ArrayList<>();
            double t = 0;
            if (temperature != null) {
                t = temperature;
            } else if (gen != null && Boolean.FALSE.equals(gen.doSample())) {
                applied.add("do_sample false (greedy)");
            } else if (gen != null && Boolean.TRUE.equals(gen.doSample())) {
                t = gen.temperature() != null ? gen.temperature() : 1.0; // transformers' default temperature
                applied.add("temperature " + num(t));
            }
            boolean sampling = t > 0;
            double p = 1.0;
            if (topP != null) {
                p = topP;
            } else if (sampling && gen != null && gen.topP() != null) {
                p = gen.topP();
                applied.add("top_p " + num(p));
            }
            int k = 0;
            if (topK != null) {
                k = topK;
            } else if (sampling && gen != null && gen.topK() != null) {
                k = gen.topK();
                applied.add("top_k " + k);
            }
            int n = 64;
            int maxLength = 0;
            if (maxNewTokens != null) {
                n = maxNewTokens;
            } else if (gen != null && gen.maxNewTokens() != null) {
                n = gen.maxNewTokens();
                applied.add("max_new_tokens " + n);
            } else if (gen != null && gen.maxLength() != null) {
                maxLength = gen.maxLength();
                applied.add("max_length " + maxLength);
            }
            return new Defaults(n, maxLength, t, k, p, List.copyOf(applied));
        }

        private static String num(double d) {
            return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
        }

        /** The new-token budget of a batch whose shortest prompt has {@code shortestPrompt} tokens. */
        int budget(int shortestPrompt) {
            return maxLength > 0 ? Math.max(0, maxLength - shortestPrompt) : maxNewTokens;
        }
    }

    @Override
    public Integer call() throws IOException {
        if (batchSize < 1) {
            throw new LoroException("--batch-size must be >= 1, got " + batchSize);
        }
        Defaults flags = Defaults.resolve(null, maxNewTokens, temperature, topK, topP);
        new SamplingParams(flags.maxNewTokens(), flags.temperature(), flags.topK(), flags.topP(), seed, stop, !noEosStop); // checks the flags
        List<Jsonl.Line> lines = source.input != null ? Jsonl.read(source.input) : List.of();
        try (LlamaModel model = modelOptions.load();
             LoroTokenizer tokenizer = modelOptions.hasTokenizer() ? modelOptions.tokenizer("generation") : null) {
            List<Prompt> prompts = source.prompt != null
                    ? List.of(prompt(source.prompt, tokenizer, "--prompt"))
                    : lines.stream().map(l -> fromLine(l, tokenizer)).toList();
            GenerationConfig gen = GenerationConfig.read(modelOptions.model, model.config().vocabSize());
            Defaults d = Defaults.resolve(gen, maxNewTokens, temperature, topK, topP);
            PrintWriter err = spec.commandLine().getErr();
            if (!d.applied().isEmpty()) {
                err.println("loro: using " + String.join(", ", d.applied()) + " from " + GenerationConfig.FILE);
            }
            if (gen != null && gen.repetitionPenalty() != null && gen.repetitionPenalty() != 1.0) {
                err.println("loro: ignoring repetition_penalty " + gen.repetitionPenalty() + " from " + GenerationConfig.FILE
                        + " (not supported)");
            }
            Set<Long> eos = new LinkedHashSet<>(model.config().eosTokenIds());
            if (tokenizer != null && tokenizer.eosId() != null) {
                eos.add(tokenizer.eosId());
            }
            if (gen != null) {
                eos.addAll(gen.eosTokenIds());
            }
            if (chatRendered) {
                eos.addAll(template != null ? StopTokens.ids(tokenizer, ChatTemplate.builtin(template)) : StopTokens.ids(tokenizer));
            }
            Generator generator = new Generator(model, eos, tokenizer == null ? null : ids -> tokenizer.decode(ids, true));
            PrintStream out = output == null ? System.out : new PrintStream(Files.newOutputStream(output), true, StandardCharsets.UTF_8);
            try {
                ObjectMapper json = new ObjectMapper();
                for (int start = 0; start < prompts.size(); start += batchSize) {
                    List<Prompt> batch = prompts.subList(start, Math.min(prompts.size(), start + batchSize));
                    int shortest = batch.stream().mapToInt(q -> q.ids().length).min().orElse(0);
                    SamplingParams params = new SamplingParams(d.budget(shortest), d.temperature(), d.topK(), d.topP(), seed, stop,
                            !noEosStop);
                    List<Generator.Result> results = generator.generate(batch.stream().map(Prompt::ids).toList(), params);
                    if (d.maxLength() > 0) { // max_length counts the prompt: cut each row to its own budget
                        results = cutToMaxLength(results, batch, d.maxLength(), tokenizer);
                    }
                    for (int i = 0; i < batch.size(); i++) {
                        Generator.Result r = results.get(i);
                        if (source.prompt != null) {
                            out.println(r.text() != null ? r.text() : java.util.Arrays.toString(r.tokens()));
                        } else {
                            ObjectNode o = json.createObjectNode();
                            o.put("prompt", batch.get(i).text());
                            o.put("completion", r.text());
                            o.putPOJO("tokens", r.tokens());
                            o.put("finish_reason", r.finishReason());
                            out.println(json.writeValueAsString(o));
                        }
                    }
                }
            } finally {
                if (output != null) {
                    out.close();
                }
            }
        }
        return 0;
    }

    /** Each result cut to {@code maxLength} − its prompt's length tokens (then finish reason "length"). */
    private static List<Generator.Result> cutToMaxLength(List<Generator.Result> results, List<Prompt> batch, int maxLength,
                                                         LoroTokenizer tokenizer) {
        List<Generator.Result> out = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            Generator.Result r = results.get(i);
            int limit = Math.max(0, maxLength - batch.get(i).ids().length);
            if (r.tokens().length <= limit) {
                out.add(r);
                continue;
            }
            long[] kept = java.util.Arrays.copyOf(r.tokens(), limit);
            out.add(new Generator.Result(kept, tokenizer == null ? null : tokenizer.decode(kept, true), "length", null));
        }
        return out;
    }

    private Prompt fromLine(Jsonl.Line line, LoroTokenizer tokenizer) {
        long[] ids = Jsonl.tokenIds(line, "input_ids");
        if (ids != null) {
            return new Prompt(null, ids);
        }
        JsonNode messages = line.json().get("messages");
        if (messages != null) {
            if (!messages.isArray() || messages.isEmpty()) {
                throw new LoroException(line.where() + ": 'messages' must be a non-empty list of {role, content}");
            }
            List<ChatMessage> list = new ArrayList<>();
            for (JsonNode m : messages) {
                if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                    throw new LoroException(line.where() + ": each message needs string 'role' and 'content'");
                }
                list.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            return chatPrompt(list, tokenizer, line.where());
        }
        if (!line.json().path("prompt").isTextual()) {
            throw new LoroException(line.where() + ": needs \"prompt\" (string), \"messages\" or \"input_ids\"");
        }
        return prompt(line.json().get("prompt").asText(), tokenizer, line.where());
    }

    private Prompt prompt(String text, LoroTokenizer tokenizer, String where) {
        if (tokenizer == null) {
            throw new LoroException(modelOptions.model + ": no tokenizer.json, needed to tokenize the prompt (" + where
                    + "); give \"input_ids\" instead");
        }
        if (chat) {
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null) {
                messages.add(ChatMessage.system(system));
            }
            messages.add(ChatMessage.user(text));
            return chatPrompt(messages, tokenizer, where);
        }
        return new Prompt(text, tokenizer.encode(text, true));
    }

    private Prompt chatPrompt(List<ChatMessage> messages, LoroTokenizer tokenizer, String where) {
        if (tokenizer == null) {
            throw new LoroException(modelOptions.model + ": no tokenizer.json, needed for chat prompts (" + where + ")");
        }
        chatRendered = true;
        String rendered = template != null
                ? ChatTemplate.builtin(template).render(messages, true, tokenizer.specialTokensMap())
                : tokenizer.applyChatTemplate(messages, true);
        // the template writes BOS itself where the model wants one (transformers: add_special_tokens=False)
        return new Prompt(rendered, tokenizer.encode(rendered, false));
    }
}
