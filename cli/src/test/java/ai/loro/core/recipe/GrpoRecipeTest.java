package ai.loro.core.recipe;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.cli.Stages;
import ai.loro.core.LoroException;
import ai.loro.rlhf.GrpoConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code grpo:} block: TRL's defaults, every key read, the YAML round trip, one-line errors. */
class GrpoRecipeTest {
    @TempDir Path tmp;

    static final String BASE = """
            stage: grpo
            base_model: models/tiny
            output_dir: runs/g
            datasets:
              - path: data/prompts.jsonl
                type: prompt
            """;

    Recipe load(String text, String... sets) throws IOException {
        Files.createDirectories(tmp.resolve("models/tiny"));
        Path p = tmp.resolve("recipe.yaml");
        Files.writeString(p, text);
        return RecipeLoader.load(p, List.of(sets), Stages.SCHEMA);
    }

    @Test
    void defaultsAreTrls() throws IOException {
        Recipe r = load(BASE);
        assertEquals("grpo", r.stage());
        GrpoConfig g = r.block(GrpoConfig.BLOCK);
        assertEquals(8, g.numGenerations());
        assertEquals(4, g.promptsPerStep());
        assertEquals(64, g.maxNewTokens());
        assertEquals(1.0, g.temperature());
        assertEquals(0.0, g.beta(), "TRL's default: no reference model");
        assertEquals(0.2, g.epsilon());
        assertEquals(OptionalDouble.empty(), g.epsilonHigh());
        assertEquals(0.2, g.upperEpsilon(), "epsilon_high defaults to epsilon");
        assertEquals(1, g.numIterations());
        assertEquals(1, g.stepsPerGeneration());
        assertEquals("dapo", g.lossType());
        assertEquals("group", g.scaleRewards());
        assertEquals("token", g.importanceSamplingLevel());
        assertFalse(g.maskTruncatedCompletions());
        assertEquals("grpo", g.advantage());
        assertTrue(g.sharePrefix());
        assertEquals(List.of(), g.rewardFunctions());
        assertEquals(List.of(), g.rewardWeights());
    }

    @Test
    void everyKeyIsReadAndRoundTrips() throws IOException {
        Files.createDirectories(tmp.resolve("rm"));
        Recipe r = load(BASE + """
                grpo:
                  reward_model: rm
                  reward_functions: [exact_match, "regex:^[a-h]{4}$"]
                  reward_weights: [0.5, 1, 0.25]
                  num_generations: 4
                  prompts_per_step: 2
                  max_new_tokens: 8
                  temperature: 0.9
                  top_k: 5
                  top_p: 0.95
                  beta: 0.04
                  epsilon: 0.2
                  epsilon_high: 0.28
                  num_iterations: 2
                  steps_per_generation: 2
                  loss_type: dr_grpo
                  scale_rewards: none
                  importance_sampling_level: sequence
                  mask_truncated_completions: true
                  advantage: rloo
                  share_prefix: false
                  sample_every: 3
                """);
        GrpoConfig g = r.block(GrpoConfig.BLOCK);
        assertEquals(Optional.of(tmp.resolve("rm")), g.rewardModel());
        assertEquals(List.of("exact_match", "regex:^[a-h]{4}$"), g.rewardFunctions());
        assertEquals(List.of(0.5, 1.0, 0.25), g.rewardWeights());
        assertEquals(List.of(4, 2, 8, 5, 2, 2, 3), List.of(g.numGenerations(), g.promptsPerStep(), g.maxNewTokens(), g.topK(),
                g.numIterations(), g.stepsPerGeneration(), g.sampleEvery()));
        assertEquals(List.of(0.9, 0.95, 0.04, 0.2, 0.28), List.of(g.temperature(), g.topP(), g.beta(), g.epsilon(), g.upperEpsilon()));
        assertEquals(List.of("dr_grpo", "none", "sequence", "rloo"),
                List.of(g.lossType(), g.scaleRewards(), g.importanceSamplingLevel(), g.advantage()));
        assertTrue(g.maskTruncatedCompletions());
        assertFalse(g.sharePrefix());
        Path saved = tmp.resolve("again/recipe.yaml");
        Files.createDirectories(saved.getParent());
        Files.writeString(saved, r.toYaml());
        assertEquals(r, RecipeLoader.load(saved, List.of(), Stages.SCHEMA), r.toYaml());
        assertEquals(2, load(BASE, "grpo.num_generations=2").block(GrpoConfig.BLOCK).numGenerations(), "--set reaches the block");
    }

    @Test
    void badValuesAreOneLineErrors() throws IOException {
        for (String[] c : new String[][] {
                {"grpo.num_generations=1", "an integer >= 2"},
                {"grpo.loss_type=ppo", "grpo|bnpo|dr_grpo|dapo"},
                {"grpo.scale_rewards=yes", "group|batch|none"},
                {"grpo.importance_sampling_level=word", "token|sequence"},
                {"grpo.advantage=gae", "grpo|rloo"},
                {"grpo.epsilon_high=0", "grpo.epsilon_high"}}) {
            LoroException e = assertThrows(LoroException.class, () -> load(BASE, c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }
}
