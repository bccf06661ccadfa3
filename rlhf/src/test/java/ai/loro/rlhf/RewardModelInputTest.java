package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.generate.Generator;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import ai.loro.datasets.EncodeOptions;
import ai.loro.datasets.EncodedPair;
import ai.loro.datasets.PreferenceEncoder;
import ai.loro.datasets.PreferencePair;
import ai.loro.datasets.Templates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the reward model reads during PPO must be token for token what it was trained on: a
 * finished rollout (prompt + reply + EOS) plus the template's tail after the end-of-turn marker
 * equals the reward stage's encoding of the same prompt and reply. Without the tail a ChatML reward
 * model is read at {@code <|im_end|>} instead of the newline it learned to score (found by the
 * quickstart: held-out pairwise accuracy 0.54 read at EOS vs 0.81 read at the trained token).
 */
class RewardModelInputTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"chatml", "llama3"})
    void finishedRolloutIsScoredExactlyAsTheRewardModelWasTrained(String template) throws Exception {
        Path tokDir = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tokDir, template);
        LoroTokenizer tok = LoroTokenizer.load(tokDir);
        Path data = dir.resolve("prompts.jsonl");
        Files.writeString(data, "{\"prompt\": \"cafe\", \"answer\": \"dbgf\"}\n");
        Path recipeFile = dir.resolve("ppo.yaml");
        Files.writeString(recipeFile, "stage: ppo\nbase_model: tok\noutput_dir: out\ndatasets:\n  - path: prompts.jsonl\n"
                + "    type: prompt\nppo:\n  reward_functions: [exact_match]\n  max_new_tokens: 8\n");
        Recipe r = RecipeLoader.load(recipeFile, List.of(),
                ai.loro.core.recipe.RecipeSchema.of(List.of("ppo"), List.of(PpoConfig.BLOCK), List.of(Prompts.TYPE)));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Prompts prompts = Prompts.load(r, tok, quiet);
        long[] tail = PpoStage.rewardTail(r, tok, quiet);
        assertEquals(template.equals("chatml") ? "\n" : "", tok.decode(tail, false), "the template's text after the turn's end");

        long[] reply = tok.encode("dbgf", false);
        long[] finished = Arrays.copyOf(reply, reply.length + 1);
        finished[reply.length] = tok.eosId();
        Generator.Result done = new Generator.Result(finished, "dbgf", "eos", null);
        Generator.Result cut = new Generator.Result(reply, "dbgf", "length", null);
        Rollout ro = Rollout.of(List.of(prompts.at(0), prompts.at(0)), List.of(done, cut), tok.padId());
        long[][] scored = ro.forRewardModel(tail, tok.padId());
        int w = ro.length() + tail.length;

        PreferencePair pair = new PreferencePair(List.of(ChatMessage.user("cafe")), List.of(ChatMessage.assistant("dbgf")),
                List.of(ChatMessage.assistant("cafe")), null, "t:1");
        EncodedPair e = new PreferenceEncoder(tok, EncodeOptions.of(64).withTemplate(Templates.resolve(template, tok))).encode(pair);
        long[] trained = e.chosenIds();
        assertArrayEquals(trained, realTokens(scored, 0, w), "finished rollout = the reward stage's chosen sequence");
        // the read position (last attended token) is the trained sequence's last token
        long[] cutRow = realTokens(scored, 1, w);
        assertEquals(ro.promptLen() + reply.length, cutRow.length, "an unfinished reply gets no tail");
    }

    /** The attended tokens of row i (prompts are left-padded, responses right-padded). */
    private static long[] realTokens(long[][] scored, int row, int width) {
        return java.util.stream.IntStream.range(row * width, (row + 1) * width).filter(k -> scored[1][k] == 1)
                .mapToLong(k -> scored[0][k]).toArray();
    }
}
