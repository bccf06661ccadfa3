package ai.loro.cli;

import ai.loro.core.model.BatchScoring;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.io.Jsonl;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.EncodeOptions;
import ai.loro.datasets.EncodedPair;
import ai.loro.datasets.PreferenceEncoder;
import ai.loro.datasets.PreferenceFormat;
import ai.loro.datasets.PreferencePair;
import ai.loro.datasets.Row;
import ai.loro.datasets.Templates;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loro score}: rewards (or class scores) of texts, conversations or preference pairs. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score texts or pairs with a reward model (a *ForSequenceClassification checkpoint, or a base"
                + " model plus a PEFT adapter whose modules_to_save holds the score head).",
            "Input lines: {\"text\"} (tokenized with special tokens), {\"messages\"} (rendered with the chat template), or"
                + " a preference pair {\"prompt\", \"chosen\", \"rejected\"} (encoded as in training).",
            "Output lines: {\"reward\"} (or {\"scores\", \"label\"} with several labels), or {\"reward_chosen\","
                + " \"reward_rejected\", \"chosen_preferred\"}."})
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME",
            description = "Reward model, or the base with --adapter; a folder or a Hub id org/name[@revision] in the local"
                    + " Hugging Face cache.")
    Path model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter with the score head in modules_to_save.")
    Path adapter;
    @Option(names = "--input", required = true, paramLabel = "IN.jsonl", description = "Input JSON Lines file.") Path input;
    @Option(names = "--output", paramLabel = "OUT.jsonl", description = "Output file (default: standard output).") Path output;
    @Option(names = "--template", paramLabel = "NAME", defaultValue = "tokenizer",
            description = "Chat template for messages and pairs: tokenizer (default) or a built-in name.") String template;
    @Option(names = "--sequence-len", defaultValue = "4096", description = "Longest sequence (default: ${DEFAULT-VALUE}).")
    int sequenceLen;

    @Override
    public Integer call() throws IOException {
        model = ModelOptions.resolveModel("--model", model);
        List<Jsonl.Line> lines = Jsonl.read(input);
        try (LlamaModel rm = load(); LoroTokenizer tok = LoroTokenizer.load(model)) {
            ChatTemplate chat = null;
            ObjectMapper json = new ObjectMapper();
            PrintStream out = output == null ? System.out : new PrintStream(Files.newOutputStream(output), true, StandardCharsets.UTF_8);
            try {
                for (Jsonl.Line line : lines) {
                    JsonNode j = line.json();
                    ObjectNode o = json.createObjectNode();
                    if (j.has("chosen") || j.has("rejected")) {
                        chat = chat != null ? chat : Templates.resolve(template, tok);
                        Row row = new Row(line.file(), line.number(), "line", (ObjectNode) j);
                        PreferencePair pair = PreferenceFormat.PREFERENCE.parse(row).get(0);
                        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(sequenceLen).withTemplate(chat)
                                .withStrictBoundaries(false)).encode(pair);
                        if (e == null) {
                            throw new LoroException(line.where() + ": the pair does not fit in --sequence-len " + sequenceLen);
                        }
                        double c = scores(rm, e.chosenIds())[0];
                        double r = scores(rm, e.rejectedIds())[0];
                        o.put("reward_chosen", c).put("reward_rejected", r).put("chosen_preferred", c > r);
                    } else {
                        long[] ids;
                        if (j.has("messages")) {
                            chat = chat != null ? chat : Templates.resolve(template, tok);
                            List<ChatMessage> messages = new ArrayList<>();
                            for (JsonNode m : j.get("messages")) {
                                if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                                    throw new LoroException(line.where() + ": each message needs string 'role' and 'content'");
                                }
                                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
                            }
                            ids = tok.encode(chat.render(messages, false, tok.specialTokensMap()), false);
                        } else if (j.path("text").isTextual()) {
                            ids = tok.encode(j.get("text").asText(), true);
                        } else {
                            throw new LoroException(line.where() + ": needs \"text\", \"messages\" or a pair (\"chosen\", \"rejected\")");
                        }
                        if (ids.length == 0) {
                            throw new LoroException(line.where() + ": empty text");
                        }
                        rm.checkTokenIds(ids, line.where());
                        double[] s = scores(rm, ids);
                        if (s.length == 1) {
                            o.put("reward", s[0]);
                        } else {
                            int best = 0;
                            for (int i = 1; i < s.length; i++) {
                                best = s[i] > s[best] ? i : best;
                            }
                            o.putPOJO("scores", s);
                            o.put("label", best);
                        }
                    }
                    out.println(json.writeValueAsString(o));
                }
            } finally {
                if (output != null) {
                    out.close();
                }
            }
        }
        return 0;
    }

    private LlamaModel load() {
        LlamaConfig c = LlamaConfig.read(model);
        if (adapter == null) {
            if (!c.isSequenceClassifier()) {
                throw new LoroException(model + ": " + c.architecture() + " is not a reward model (give a"
                        + " *ForSequenceClassification checkpoint, or --adapter with a score head)");
            }
            return LlamaModel.load(model, DataType.FLOAT32, Device.cpu());
        }
        return ModelOptions.withAdapter(LlamaModel.loadAsClassifier(model, c.isSequenceClassifier() ? c.numLabels() : 1, 0,
                DataType.FLOAT32, Device.cpu()), adapter);
    }

    static double[] scores(LlamaModel rm, long[] ids) {
        float[] s = BatchScoring.classify(rm, List.of(ids), 1)[0];
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i];
        }
        return out;
    }
}
