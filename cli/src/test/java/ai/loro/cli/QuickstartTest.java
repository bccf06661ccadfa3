package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.cli.quickstart.Evaluation;
import ai.loro.cli.quickstart.ShiftWorld;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quickstart end to end with every stage cut to a few steps (the real run's figures are in the
 * README): each stage runs from the shipped recipes, the table, results.json and the HTML report
 * are written, and the numbers in them are consistent with each other.
 */
class QuickstartTest {
    @TempDir Path tmp;

    @Test
    void runsEveryStageAndWritesTableResultsAndReport() throws Exception {
        Path out = tmp.resolve("qs");
        CliTest.Run r = CliTest.run("quickstart", "--out", out.toString(), "--held-out", "32",
                "--set", "pretrain.max_steps=4", "--set", "sft.max_steps=4", "--set", "sft.eval_steps=2",
                "--set", "reward.max_steps=3", "--set", "ppo.max_steps=2", "--set", "ppo.ppo.rollout_batch_size=8",
                "--set", "dpo.max_steps=3", "--set", "grpo.max_steps=2", "--set", "grpo.grpo.prompts_per_step=2");
        assertEquals(0, r.code(), r.err());
        for (String stage : List.of("pretrain", "sft", "ppo", "dpo", "grpo")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(stage + " ")), "table row for " + stage + ":\n" + r.out());
        }
        assertTrue(r.out().contains("reward model: held-out pairwise accuracy"), r.out());

        JsonNode res = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(32, res.path("held_out_words").asInt());
        assertEquals(5, res.path("stages").size());
        assertEquals("grpo", res.path("stages").get(4).path("stage").asText());
        assertTrue(res.path("stages").get(4).path("kl_to_sft").asDouble(-1) >= 0, "GRPO has a KL to SFT");
        List<String> words = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("data/heldout.jsonl"))) {
            words.add(new ObjectMapper().readTree(line).path("prompt").asText());
        }
        List<String> table = r.out().lines().toList();
        for (JsonNode s : res.path("stages")) {
            String stage = s.path("stage").asText();
            // greedy decoding is deterministic: the column is the count of held-out words this model gets right
            assertEquals(greedyRight(modelOf(out, stage), words) / 32.0, s.path("greedy_accuracy").asDouble(-1), 0.0, s.toString());
            double sampled = s.path("sampled_accuracy").asDouble(-1);
            assertEquals(0, Math.abs(sampled * 32 - Math.rint(sampled * 32)), 1e-9, s.toString()); // a count over 32 words
            String row = table.stream().filter(l -> l.startsWith(stage + " ")).findFirst().orElseThrow();
            assertEquals(List.of(String.format(Locale.ROOT, "%.3f", s.path("greedy_accuracy").asDouble()),
                    String.format(Locale.ROOT, "%.3f", sampled)), List.of(row.split(" +")).subList(1, 3), row);
            assertTrue(s.path("seconds").asDouble() > 0, s.toString());
        }
        JsonNode sft = res.path("stages").get(1);
        assertEquals("sft", sft.path("stage").asText());
        assertEquals(0.0, sft.path("kl_to_sft").asDouble(-1), "the SFT model is the KL reference");
        double rmAcc = res.path("reward_model").path("held_out_pairwise_accuracy").asDouble(-1);
        assertEquals(0, Math.abs(rmAcc * 32 - Math.rint(rmAcc * 32)), 1e-9, "a count over 32 pairs: " + rmAcc);
        assertTrue(r.out().contains(String.format(Locale.ROOT, "reward model: held-out pairwise accuracy %.3f,", rmAcc)), r.out());

        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<table>") && html.contains("Held-out results"), "report table");
        for (String stage : List.of("pretrain", "sft", "reward", "ppo", "dpo", "grpo")) {
            assertTrue(html.contains("<h2>" + stage + " <small>"), "section for " + stage);
        }
        assertTrue(html.contains("env/reward_mean") && html.contains("objective/kl"), "PPO curves");
        assertTrue(html.contains("<polyline"), "curves drawn");
        assertTrue(html.contains("<h2>grpo <small>(grpo,") && html.contains("frac_reward_zero_std"), "GRPO curves");
        assertFalse(html.contains("http://cdn") || html.contains("https://cdn"), "self-contained");
        assertFalse(Files.exists(out.resolve("report.html.tmp")));

        assertTrue(html.contains("<h2>ppo <small>(ppo,") && html.contains("<h2>pretrain <small>(sft,"), "stage kinds from recipe.yaml");

        // `loro report` on one stage's folder, and on the pipeline's folder (one section per stage folder)
        CliTest.Run one = CliTest.run("report", out.resolve("dpo").toString());
        assertEquals(0, one.code(), one.err());
        String dpoHtml = Files.readString(out.resolve("dpo/report.html"));
        assertTrue(dpoHtml.contains("<h2>dpo <small>(dpo,") && dpoHtml.contains("rewards/margins") && dpoHtml.contains("<polyline"));
        Path all = tmp.resolve("all.html");
        CliTest.Run whole = CliTest.run("report", out.toString(), "--out", all.toString());
        assertEquals(0, whole.code(), whole.err());
        assertTrue(whole.out().contains("(6 stages)"), whole.out());
        CliTest.assertOneLineError(CliTest.run("report", out.resolve("data").toString()), "no metrics.jsonl");

        // the run folder's recipes re-run through `loro train`, and are the shipped ones
        assertEquals(Files.readString(Path.of("../recipes/quickstart/ppo.yaml")),
                Files.readString(out.resolve("recipes/ppo.yaml")));
        // every data set the pipeline trained on leaves the held-out words out
        Set<String> held = new HashSet<>();
        for (String line : Files.readAllLines(out.resolve("data/heldout.jsonl"))) {
            held.add(new ObjectMapper().readTree(line).path("prompt").asText());
        }
        assertEquals(32, held.size());
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("data/sft.jsonl"))) {
            assertFalse(held.contains(json.readTree(line).path("messages").get(0).path("content").asText()), line);
        }
        for (String line : Files.readAllLines(out.resolve("data/pairs.jsonl"))) {
            assertFalse(held.contains(json.readTree(line).path("prompt").get(0).path("content").asText()), line);
        }
        for (String line : Files.readAllLines(out.resolve("data/prompts.jsonl"))) {
            assertFalse(held.contains(json.readTree(line).path("prompt").asText()), line);
        }

        // re-evaluating the same outputs gives the same numbers (seeded sampling)
        CliTest.Run again = CliTest.run("quickstart", "--out", out.toString(), "--held-out", "32", "--evaluate-only");
        assertEquals(0, again.code(), again.err());
        JsonNode res2 = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        for (int i = 0; i < 4; i++) {
            assertEquals(res.path("stages").get(i).path("sampled_accuracy").asDouble(),
                    res2.path("stages").get(i).path("sampled_accuracy").asDouble(), 1e-12);
            assertEquals(res.path("stages").get(i).path("greedy_accuracy").asDouble(),
                    res2.path("stages").get(i).path("greedy_accuracy").asDouble(), 1e-12);
        }
    }

    @Test
    void badOptionsAreOneLineErrors() {
        CliTest.assertOneLineError(CliTest.run("quickstart", "--out", tmp.resolve("x").toString(), "--set", "nostage.max_steps=1"),
                "STAGE one of pretrain, sft, reward, ppo, dpo, grpo");
        CliTest.assertOneLineError(CliTest.run("quickstart", "--out", tmp.resolve("x").toString(), "--held-out", "3"),
                "--held-out must be between 16 and 1024");
        CliTest.assertOneLineError(CliTest.run("quickstart", "--out", tmp.resolve("x").toString(), "--recipes",
                tmp.resolve("missing").toString()), "pipeline.yaml: not found");
    }

    @Test
    void worldRulesAreExact() {
        assertEquals("dbgf", ShiftWorld.answer("cafe"));
        assertEquals("abcd", ShiftWorld.answer("habc"), "h wraps to a");
        assertEquals("hhhh", ShiftWorld.shift("aaaa", -1));
        assertTrue(ShiftWorld.isCorrect("cafe", " dbgf\n"));
        assertFalse(ShiftWorld.isCorrect("cafe", "dbgfa"));
        assertFalse(ShiftWorld.isCorrect("cafe", "cafe"));
        assertThrows(IllegalArgumentException.class, () -> ShiftWorld.answer("xyz!"));
        List<String> all = ShiftWorld.allWords();
        assertEquals(4096, all.size());
        assertEquals(4096, new HashSet<>(all).size());
        ShiftWorld w = new ShiftWorld(7, 100);
        Set<String> pool = new HashSet<>(w.trainingPool());
        assertEquals(3996, pool.size());
        w.heldOut().forEach(h -> assertFalse(pool.contains(h)));
    }

    @Test
    void demonstratorAndComparisonsHaveTheStatedNoise(@TempDir Path dir) throws Exception {
        ShiftWorld w = new ShiftWorld(3, 64);
        w.write(dir, new ShiftWorld.Sizes(64, 10, 4000, 3000, 10));
        ObjectMapper json = new ObjectMapper();
        int right = 0;
        int echo = 0;
        List<String> demos = Files.readAllLines(dir.resolve("sft.jsonl"));
        for (String line : demos) {
            JsonNode m = json.readTree(line).path("messages");
            String word = m.get(0).path("content").asText();
            String reply = m.get(1).path("content").asText();
            right += ShiftWorld.isCorrect(word, reply) ? 1 : 0;
            echo += reply.equals(word) ? 1 : 0;
            assertTrue(reply.equals(ShiftWorld.answer(word)) || reply.equals(word) || reply.equals(ShiftWorld.shift(word, 2)));
        }
        // binomial: 4000 draws, sd of the share about 0.008
        assertEquals(ShiftWorld.DEMO_RIGHT, right / (double) demos.size(), 0.03);
        assertEquals(ShiftWorld.DEMO_ECHO, echo / (double) demos.size(), 0.03);
        Set<Integer> rejectedLengths = new HashSet<>();
        for (String line : Files.readAllLines(dir.resolve("pairs.jsonl"))) {
            JsonNode p = json.readTree(line);
            String word = p.path("prompt").get(0).path("content").asText();
            assertTrue(ShiftWorld.isCorrect(word, p.path("chosen").get(0).path("content").asText()));
            String rejected = p.path("rejected").get(0).path("content").asText();
            assertFalse(ShiftWorld.isCorrect(word, rejected));
            rejectedLengths.add(rejected.length());
        }
        // wrong answers of the wrong length too, so a reward model cannot pay for a cut-short reply
        assertEquals(Set.of(3, 4, 5), rejectedLengths);
        for (String line : Files.readAllLines(dir.resolve("heldout.jsonl"))) {
            JsonNode p = json.readTree(line);
            assertEquals(ShiftWorld.answer(p.path("prompt").asText()), p.path("answer").asText());
        }
    }

    @Test
    void klOfAModelToItselfIsZeroAndAccuracyCountsRightAnswers() throws Exception {
        Path base = Fixtures.tinyBase(tmp);
        try (var model = ai.loro.core.model.LlamaModel.load(base, ai.djl.ndarray.types.DataType.FLOAT32, ai.djl.Device.cpu());
             var tok = ai.loro.core.tokenizer.LoroTokenizer.load(base)) {
            List<String> words = new ShiftWorld(1, 16).heldOut();
            Evaluation.Row self = Evaluation.evaluate("x", model, tok, null, words, 6, 1);
            assertTrue(Double.isNaN(self.klToSft()), "no reference, no KL");
            try (var twin = ai.loro.core.model.LlamaModel.load(base, ai.djl.ndarray.types.DataType.FLOAT32, ai.djl.Device.cpu())) {
                Evaluation.Row row = Evaluation.evaluate("x", model, tok, twin, words, 6, 1);
                assertEquals(0.0, row.klToSft(), 1e-4, "same weights: log-ratios cancel token by token");
                assertEquals(self.sampledAccuracy(), row.sampledAccuracy());
                assertTrue(row.meanResponseTokens() > 0 && row.meanResponseTokens() <= 6);
            }
        }
    }

    /** The stage's full model in the run folder: merged when the stage trained an adapter. */
    static Path modelOf(Path out, String stage) {
        Path merged = out.resolve(stage).resolve("merged");
        return Files.isDirectory(merged) ? merged : out.resolve(stage).resolve("model");
    }

    /** How many of {@code words} the model answers right with greedy decoding (recounted here, word by word). */
    static int greedyRight(Path modelDir, List<String> words) {
        try (LlamaModel model = LlamaModel.load(modelDir, DataType.FLOAT32, Device.cpu());
             LoroTokenizer tok = LoroTokenizer.load(modelDir)) {
            Generator gen = new Generator(model, Set.of(tok.eosId()), t -> tok.decode(t, true));
            // one batch of all words, as the quickstart's evaluation decodes them (batches of up to 64)
            List<Generator.Result> answers = gen.generate(Evaluation.prompts(tok, words),
                    SamplingParams.greedy(ShiftWorld.WORD_LENGTH + 4));
            int right = 0;
            for (int i = 0; i < words.size(); i++) {
                right += ShiftWorld.isCorrect(words.get(i), answers.get(i).text()) ? 1 : 0;
            }
            return right;
        }
    }
}
