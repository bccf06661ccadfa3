package ai.loro.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline's generate stage (K samples per prompt, scored, best vs worst pairs) run in-process and through the
 * loro spark generate job in local[2] with 3 partitions: the same samples and the same pairs file, byte for byte; a
 * DPO stage then trains on the pairs ({@code pairs:}); bad generate stages are one-line errors naming the key.
 */
class GenerateStageTest {
    @TempDir static Path tmp;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws Exception {
        spark = Sessions.embedded("local[2]", "GenerateStageTest");
        SparkPipelineFixtures.tinyModel(tmp, "policy", 3);
        SparkPipelineFixtures.tinyRewardModel(tmp, "rm", 9);
        StringBuilder prompts = new StringBuilder();
        for (String w : new String[] {"cafe", "bead", "face", "dead", "fade", "ache", "head"}) {
            prompts.append("{\"prompt\": \"").append(w).append("\", \"answer\": \"x\"}\n");
        }
        Files.writeString(tmp.resolve("prompts.jsonl"), prompts.toString());
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static final String GEN = "num_samples: 4, temperature: 1.0, max_new_tokens: 6, seed: 3, batch_size: 8";

    @Test
    void inProcessAndSparkWriteTheSamePairsAndDpoTrainsOnThem() throws Exception {
        Files.writeString(tmp.resolve("dpo.yaml"), "stage: dpo\nbase_model: policy\noutput_dir: runs/dpo\nseed: 5\n"
                + "datasets:\n  - path: placeholder.jsonl\n    type: preference\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.0\n  target_modules: all-linear\n"
                + "dpo:\n  beta: 0.1\nsequence_len: 64\nmicro_batch_size: 2\nmax_steps: 2\nlearning_rate: 1.0e-3\nlogging_steps: 1\n"
                + "progress_bar: false\n");
        Path pipeline = tmp.resolve("pipeline.yaml");
        Files.writeString(pipeline, "output_dir: runs\nstages:\n"
                + "  - name: local\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl, " + GEN + "}\n"
                + "  - name: spark\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl, " + GEN
                + ", master: 'local[2]', partitions: 3}\n"
                + "  - name: dpo\n    recipe: dpo.yaml\n    pairs: spark\n");
        SparkPipelineFixtures.Run r = SparkPipelineFixtures.cli("train", pipeline.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        Path local = tmp.resolve("runs/local");
        Path viaSpark = tmp.resolve("runs/spark");
        List<JsonNode> samples = SparkPipelineFixtures.jsonLines(local.resolve("samples.jsonl"));
        assertEquals(7 * 4, samples.size());
        assertEquals(Files.readString(local.resolve("samples.jsonl")), Files.readString(viaSpark.resolve("samples.jsonl")));
        assertEquals(Files.readString(local.resolve("pairs.jsonl")), Files.readString(viaSpark.resolve("pairs.jsonl")));
        List<JsonNode> pairs = SparkPipelineFixtures.jsonLines(local.resolve("pairs.jsonl"));
        assertTrue(!pairs.isEmpty(), r.out());
        // each pair: its prompt's highest- and lowest-reward samples
        for (JsonNode p : pairs) {
            List<JsonNode> mine = samples.stream().filter(s -> s.get("row").asLong() == p.get("prompt_row").asLong()
                    && !s.get("completion").asText().isBlank()).toList();
            double max = mine.stream().mapToDouble(s -> s.get("reward").asDouble()).max().orElseThrow();
            double min = mine.stream().mapToDouble(s -> s.get("reward").asDouble()).min().orElseThrow();
            assertEquals(max, p.get("chosen_reward").asDouble());
            assertEquals(min, p.get("rejected_reward").asDouble());
            assertTrue(max > min);
            assertEquals(mine.stream().filter(s -> s.get("reward").asDouble() == max).findFirst().orElseThrow().get("completion").asText(),
                    p.get("chosen").asText());
            assertEquals(mine.get(0).get("prompt"), p.get("prompt"));
        }
        assertTrue(r.out().contains("wrote " + viaSpark.resolve("pairs.jsonl").toAbsolutePath()), r.out());
        String resolved = Files.readString(tmp.resolve("runs/dpo/recipe.yaml"));
        assertTrue(resolved.contains(viaSpark.resolve("pairs.jsonl").toAbsolutePath().toString()), resolved);
        assertTrue(Files.isRegularFile(tmp.resolve("runs/dpo/adapter/adapter_model.safetensors")));
    }

    static void assertOneLineError(String yaml, String expected) throws Exception {
        Path p = tmp.resolve("bad.yaml");
        Files.writeString(p, yaml);
        SparkPipelineFixtures.Run r = SparkPipelineFixtures.cli("train", p.toString());
        assertEquals(1, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }

    @Test
    void badGenerateStagesAreOneLineErrorsNamingTheKey() throws Exception {
        assertOneLineError("stages:\n  - name: g\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl, num_samples: 0}\n",
                "generate.num_samples");
        assertOneLineError("stages:\n  - name: g\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl, temprature: 1}\n",
                "unknown key 'temprature'");
        assertOneLineError("stages:\n  - name: g\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl, master: 'local[x]'}\n",
                "generate.master 'local[x]' must be local[N]");
        assertOneLineError("stages:\n  - name: g\n    recipe: dpo.yaml\n    generate: {model: ./policy, reward_model: ./rm, prompts: prompts.jsonl}\n",
                "a stage has either 'recipe' (a training stage) or 'generate' (a generate stage), not both");
        assertOneLineError("stages:\n  - name: d\n    recipe: dpo.yaml\n    pairs: nothere\n", "pairs: 'nothere' is not an earlier generate stage");
        assertOneLineError("stages:\n  - name: g\n    generate: {model: ./policy, reward_model: ./rm}\n",
                "missing required key 'generate.prompts'");
    }
}
