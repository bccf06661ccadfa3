package ai.loro.cli.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The quickstart's task world: a word of {@link #WORD_LENGTH} letters from {@link #ALPHABET}; the
 * right answer shifts every letter one step along the alphabet, wrapping around ({@code "cafe" →
 * "dbgf"}). Answers are checkable exactly, and the {@code 8^4 = 4,096} words split into held-out
 * words that no stage ever sees and a training pool.
 *
 * <p>As in InstructGPT, the capability comes from pretraining: its text shows words next to their
 * shifts. The demonstrator that writes the SFT data is sloppy, the way crowd demonstrations are: it is
 * right only {@link #DEMO_RIGHT} of the time, and otherwise echoes the word unchanged or shifts by
 * two. A model that imitates it well is therefore mostly wrong; labelled comparisons (a right
 * answer against a wrong one, as a checker or a careful labeller would rank them) are what PPO
 * (through a reward model) and DPO can use to do better than the demonstrations.
 */
public final class ShiftWorld {
    public static final String ALPHABET = "abcdefgh";
    public static final int WORD_LENGTH = 4;
    /** Share of demonstrations that are right; echoes take {@link #DEMO_ECHO}, the rest overshoot. */
    public static final double DEMO_RIGHT = 0.4;
    public static final double DEMO_ECHO = 0.6;
    /**
     * What joins a word and its shift in pretraining text. Its 13 characters put an answer's letters
     * as far from the word's as the ChatML turn markers do ({@code <|im_end|>}, newline and
     * {@code <|im_start|>} one token each, "assistant" nine bytes, a newline), so the skill
     * pretraining teaches is at the distance the chat format needs; the chat format itself is new to
     * the SFT stage.
     */
    static final String PRETRAIN_LINK = " shifted is: ";

    /** The sizes of what {@link #write} produces. */
    public record Sizes(int heldOut, int pretrainLines, int demonstrations, int pairs, int ppoPrompts) {}

    private final List<String> heldOut;
    private final List<String> pool;
    private final long seed;

    public ShiftWorld(long seed, int heldOutWords) {
        this.seed = seed;
        List<String> all = allWords();
        Collections.shuffle(all, new Random(seed));
        heldOut = List.copyOf(all.subList(0, heldOutWords));
        pool = List.copyOf(all.subList(heldOutWords, all.size()));
    }

    public List<String> heldOut() {
        return heldOut;
    }

    public List<String> trainingPool() {
        return pool;
    }

    /** Every word of the world, in lexicographic order. */
    public static List<String> allWords() {
        List<String> out = new ArrayList<>();
        int n = (int) Math.pow(ALPHABET.length(), WORD_LENGTH);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, v = i; k < WORD_LENGTH; k++, v /= ALPHABET.length()) {
                sb.append(ALPHABET.charAt(v % ALPHABET.length()));
            }
            out.add(sb.reverse().toString());
        }
        return out;
    }

    /** Each letter moved {@code by} steps along the alphabet, wrapping around. */
    public static String shift(String word, int by) {
        StringBuilder sb = new StringBuilder(word.length());
        int n = ALPHABET.length();
        for (char c : word.toCharArray()) {
            int i = ALPHABET.indexOf(c);
            if (i < 0) {
                throw new IllegalArgumentException("'" + c + "' is not in the alphabet " + ALPHABET);
            }
            sb.append(ALPHABET.charAt(((i + by) % n + n) % n));
        }
        return sb.toString();
    }

    /** The right answer for a word. */
    public static String answer(String word) {
        return shift(word, 1);
    }

    /** Whether a model's response (surrounding white space ignored) is the right answer. */
    public static boolean isCorrect(String word, String response) {
        return response.strip().equals(answer(word));
    }

    /** The sloppy demonstrator's answer: right, an echo, or shifted by two. */
    public static String demonstrate(String word, Random rng) {
        double u = rng.nextDouble();
        if (u < DEMO_RIGHT) {
            return answer(word);
        }
        return u < DEMO_RIGHT + DEMO_ECHO ? word : shift(word, 2);
    }

    /**
     * A wrong answer for a comparison, one of five kinds a careful labeller would mark down: an
     * echo, an overshoot (shift by two), one letter off, a right answer cut short by its last letter,
     * or a right answer with one letter too many. The last two keep a reward model from paying for
     * the wrong length, which PPO otherwise finds and exploits (replies of 3 right letters).
     */
    public static String wrongAnswer(String word, Random rng) {
        String right = answer(word);
        switch (rng.nextInt(5)) {
            case 0:
                return word;
            case 1:
                return shift(word, 2);
            case 2: {
                char[] r = right.toCharArray();
                int at = rng.nextInt(r.length);
                int i = ALPHABET.indexOf(r[at]);
                r[at] = ALPHABET.charAt((i + 1 + rng.nextInt(ALPHABET.length() - 1)) % ALPHABET.length());
                return new String(r);
            }
            case 3:
                return right.substring(0, right.length() - 1);
            default:
                return right + ALPHABET.charAt(rng.nextInt(ALPHABET.length()));
        }
    }

    /**
     * Writes the world's data sets into {@code dir}:
     * {@code pretrain.jsonl} (text: windows of the cyclic alphabet, and lists of training-pool words
     * each followed by its shift, so the from-scratch model learns the letters' order and the skill,
     * in plain text and never on a held-out word), {@code sft.jsonl} (messages: the sloppy
     * demonstrations), {@code pairs.jsonl} (TRL conversational preference rows: right vs wrong,
     * for the reward model and DPO), {@code prompts.jsonl} (prompt + answer, for PPO) and
     * {@code heldout.jsonl} (prompt + answer over the held-out words).
     */
    public void write(Path dir, Sizes sizes) {
        Random rng = new Random(seed ^ 0x5eedL);
        try {
            Files.createDirectories(dir);
            ObjectMapper json = new ObjectMapper();
            try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("pretrain.jsonl"))) {
                String ring = ALPHABET.repeat(8);
                for (int i = 0; i < sizes.pretrainLines(); i++) {
                    String text;
                    if (i % 2 == 0) {
                        int start = rng.nextInt(ALPHABET.length());
                        text = ring.substring(start, start + 8 + rng.nextInt(17));
                    } else {
                        List<String> pairs = new ArrayList<>();
                        for (String word : pick(rng, 2)) {
                            pairs.add(word + PRETRAIN_LINK + answer(word));
                        }
                        text = String.join(", ", pairs);
                    }
                    line(w, json.createObjectNode().put("text", text));
                }
            }
            try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("sft.jsonl"))) {
                for (int i = 0; i < sizes.demonstrations(); i++) {
                    String word = pool.get(rng.nextInt(pool.size()));
                    ObjectNode row = json.createObjectNode();
                    ArrayNode msgs = row.putArray("messages");
                    msgs.addObject().put("role", "user").put("content", word);
                    msgs.addObject().put("role", "assistant").put("content", demonstrate(word, rng));
                    line(w, row);
                }
            }
            try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("pairs.jsonl"))) {
                for (int i = 0; i < sizes.pairs(); i++) {
                    String word = pool.get(rng.nextInt(pool.size()));
                    ObjectNode row = json.createObjectNode();
                    row.putArray("prompt").addObject().put("role", "user").put("content", word);
                    row.putArray("chosen").addObject().put("role", "assistant").put("content", answer(word));
                    row.putArray("rejected").addObject().put("role", "assistant").put("content", wrongAnswer(word, rng));
                    line(w, row);
                }
            }
            writePrompts(dir.resolve("prompts.jsonl"), json, pick(rng, sizes.ppoPrompts()));
            writePrompts(dir.resolve("heldout.jsonl"), json, heldOut);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> pick(Random rng, int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(pool.get(rng.nextInt(pool.size())));
        }
        return out;
    }

    private static void writePrompts(Path file, ObjectMapper json, List<String> words) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (String word : words) {
                line(w, json.createObjectNode().put("prompt", word).put("answer", answer(word)));
            }
        }
    }

    private static void line(BufferedWriter w, ObjectNode row) throws IOException {
        w.write(row.toString());
        w.newLine();
    }
}
