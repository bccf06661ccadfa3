package ai.loro.rlhf;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.BadRows;
import ai.loro.datasets.Bos;
import ai.loro.datasets.DatasetReader;
import ai.loro.datasets.Row;
import ai.loro.datasets.Splits;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code prompt} data set type for PPO: rows {@code {"prompt": str, "answer"?: str}} or
 * {@code {"messages": [{role, content}...], "answer"?: str}} (ending with a user turn), rendered
 * through the chat template with add_generation_prompt and tokenized (BOS prepended when the
 * tokenizer adds one and the render does not start with it). The optional answer goes to the
 * reward functions. Prompts longer than {@code sequence_len − max_new_tokens} are dropped.
 * The stream of prompts is endless: epoch e is the prompts shuffled by (seed, e).
 */
public final class Prompts {
    /** The data set {@code type} these rows are read as. */
    public static final String TYPE = "prompt";

    /** One encoded prompt. */
    public record Prompt(long[] ids, String text, String answer, String source) {}

    private final List<Prompt> prompts;
    private final long seed;
    private int cachedEpoch = -1;
    private List<Prompt> cached;

    public Prompts(List<Prompt> prompts, long seed) {
        if (prompts.isEmpty()) {
            throw new LoroException("no usable prompts in the recipe's data sets");
        }
        this.prompts = List.copyOf(prompts);
        this.seed = seed;
    }

    public int size() {
        return prompts.size();
    }

    public List<Prompt> all() {
        return prompts;
    }

    /** The prompt at global position {@code index} of the endless shuffled stream. */
    public Prompt at(long index) {
        int epoch = (int) (index / prompts.size());
        if (epoch != cachedEpoch) {
            cached = Splits.shuffle(prompts, seed * 1_000_003L + epoch);
            cachedEpoch = epoch;
        }
        return cached.get((int) (index % prompts.size()));
    }

    /** Rollout batch {@code k}: the {@code size} prompts from position {@code k · size} of the endless shuffled stream. */
    public List<Prompt> batch(int k, int size) {
        List<Prompt> out = new java.util.ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(at((long) k * size + i));
        }
        return out;
    }

    public static Prompts load(Recipe r, LoroTokenizer tokenizer, PrintStream log) {
        return load(r, tokenizer, log, r.block(PpoConfig.BLOCK).maxNewTokens(), "ppo");
    }

    /** The prompts of a recipe whose stage {@code stage} (ppo, grpo) samples up to {@code maxNewTokens} after each. */
    public static Prompts load(Recipe r, LoroTokenizer tokenizer, PrintStream log, int maxNewTokens, String stage) {
        int maxPrompt = r.sequenceLen() - maxNewTokens;
        if (maxPrompt < 1) {
            throw new LoroException("sequence_len " + r.sequenceLen() + " leaves no room for a prompt after " + stage
                    + ".max_new_tokens " + maxNewTokens + "; raise sequence_len or lower max_new_tokens");
        }
        Long bos = Bos.toPrepend(tokenizer);
        Map<String, Object> vars = new HashMap<>(tokenizer.specialTokensMap());
        List<Prompt> out = new ArrayList<>();
        for (Recipe.Dataset d : r.datasets()) {
            if (!d.type().equals(TYPE)) {
                throw new LoroException(d.path() + ": data set type '" + d.type() + "' is not a prompt format (stage " + stage + " needs"
                        + " type: prompt, rows {\"prompt\": ..., \"answer\"?: ...} or {\"messages\": [...], \"answer\"?: ...})");
            }
            ChatTemplate template = ai.loro.datasets.Templates.resolve(r.chatTemplateFor(d), tokenizer);
            BadRows bad = new BadRows(r.skipBadRowsFor(d));
            int tooLong = 0;
            int n = 0;
            for (Row row : DatasetReader.read(d.path(), bad)) {
                try {
                    List<ChatMessage> msgs = messages(row);
                    String answer = optionalString(row, "answer");
                    String text = template.render(msgs, true, vars);
                    long[] ids = encode(tokenizer, text, bos);
                    if (ids.length == 0) {
                        throw new LoroException(row.where() + ": the prompt renders to no tokens");
                    }
                    if (ids.length > maxPrompt) {
                        tooLong++;
                        continue;
                    }
                    out.add(new Prompt(ids, text, answer, row.where()));
                    n++;
                } catch (LoroException e) {
                    bad.handle(e);
                }
            }
            log.printf("data %s (prompt): %d prompts%s%s%n", d.path().getFileName(), n,
                    tooLong > 0 ? ", " + tooLong + " longer than " + maxPrompt + " tokens dropped" : "",
                    bad.count() > 0 ? ", " + bad.count() + " bad rows skipped" : "");
        }
        return new Prompts(out, r.seed());
    }

    /** A rendered prompt's tokens: no special tokens, BOS in front by {@link Bos}'s rule. */
    static long[] encode(LoroTokenizer tokenizer, String rendered, Long bos) {
        return Bos.prepend(tokenizer.encode(rendered, false), rendered, bos, tokenizer);
    }

    /**
     * Prompts as PPO encodes them: each message list through the tokenizer's chat template with the
     * generation prompt, then {@link #encode}. For evaluating a policy on the prompts it trained with.
     */
    public static List<long[]> encodeAll(LoroTokenizer tokenizer, List<List<ChatMessage>> conversations) {
        ChatTemplate template = ai.loro.datasets.Templates.resolve("tokenizer", tokenizer);
        Map<String, Object> vars = new HashMap<>(tokenizer.specialTokensMap());
        Long bos = Bos.toPrepend(tokenizer);
        List<long[]> out = new ArrayList<>();
        for (List<ChatMessage> msgs : conversations) {
            out.add(encode(tokenizer, template.render(msgs, true, vars), bos));
        }
        return out;
    }

    static List<ChatMessage> messages(Row row) {
        JsonNode p = row.data().get("prompt");
        JsonNode m = row.data().get("messages");
        if (p != null && !p.isNull()) {
            if (!p.isTextual() || p.asText().isEmpty()) {
                throw new LoroException(row.where() + ": field 'prompt' must be a non-empty string");
            }
            return List.of(ChatMessage.user(p.asText()));
        }
        if (m == null || m.isNull()) {
            throw new LoroException(row.where() + ": a prompt row needs 'prompt' (a string) or 'messages' (a list)");
        }
        if (!m.isArray() || m.isEmpty()) {
            throw new LoroException(row.where() + ": field 'messages' must be a non-empty list of {role, content}");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
            JsonNode t = m.get(i);
            JsonNode role = t.get("role");
            JsonNode content = t.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new LoroException(row.where() + ": 'messages[" + i + "]' must be {\"role\": str, \"content\": str}");
            }
            String rl = role.asText();
            if (!rl.equals("system") && !rl.equals("user") && !rl.equals("assistant")) {
                throw new LoroException(row.where() + ": 'messages[" + i + "].role' is '" + rl + "'; allowed: system, user, assistant");
            }
            out.add(new ChatMessage(rl, content.asText()));
        }
        if (!out.get(out.size() - 1).role().equals("user")) {
            throw new LoroException(row.where() + ": a prompt's 'messages' must end with a user turn (the model writes the reply)");
        }
        return out;
    }

    static String optionalString(Row row, String field) {
        JsonNode v = row.data().get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new LoroException(row.where() + ": field '" + field + "' must be a string");
        }
        return v.asText();
    }
}
