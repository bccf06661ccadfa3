package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.io.Jsonl;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code loro generate}: continue prompts with the KV-cache generator. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate continuations of a prompt, or of each line of a JSON Lines file.",
            "Input lines hold \"prompt\" (text), \"messages\" ([{role, content}], implies --chat) or \"input_ids\".",
            "With --input, each output line holds \"prompt\", \"completion\", \"tokens\" and \"finish_reason\"."})
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

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Default: ${DEFAULT-VALUE}.") int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).") double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE}).") int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "1 = off (default: ${DEFAULT-VALUE}).") double topP;
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

    @Override
    public Integer call() throws IOException {
        if (batchSize < 1) {
            throw new LoroException("--batch-size must be >= 1, got " + batchSize);
        }
        SamplingParams params = new SamplingParams(maxNewTokens, temperature, topK, topP, seed, stop, !noEosStop);
        List<Jsonl.Line> lines = source.input != null ? Jsonl.read(source.input) : List.of();
        try (LlamaModel model = modelOptions.load();
             LoroTokenizer tokenizer = modelOptions.hasTokenizer() ? modelOptions.tokenizer("generation") : null) {
            List<Prompt> prompts = source.prompt != null
                    ? List.of(prompt(source.prompt, tokenizer, "--prompt"))
                    : lines.stream().map(l -> fromLine(l, tokenizer)).toList();
            Set<Long> eos = new HashSet<>(model.config().eosTokenIds());
            if (tokenizer != null && tokenizer.eosId() != null) {
                eos.add(tokenizer.eosId());
            }
            Generator generator = new Generator(model, eos, tokenizer == null ? null : ids -> tokenizer.decode(ids, true));
            PrintStream out = output == null ? System.out : new PrintStream(Files.newOutputStream(output), true, StandardCharsets.UTF_8);
            try {
                ObjectMapper json = new ObjectMapper();
                for (int start = 0; start < prompts.size(); start += batchSize) {
                    List<Prompt> batch = prompts.subList(start, Math.min(prompts.size(), start + batchSize));
                    List<Generator.Result> results = generator.generate(batch.stream().map(Prompt::ids).toList(), params);
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
        String rendered = template != null
                ? ChatTemplate.builtin(template).render(messages, true, tokenizer.specialTokensMap())
                : tokenizer.applyChatTemplate(messages, true);
        // the template writes BOS itself where the model wants one (transformers: add_special_tokens=False)
        return new Prompt(rendered, tokenizer.encode(rendered, false));
    }
}
