package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipelines: stages in order, an SFT stage's merged model becoming the next stage's base. */
class PipelineTest {
    @TempDir Path tmp;

    @Test
    void sftThenDpoFeedsTheMergedModelForward() throws Exception {
        Fixtures.tinyBase(tmp);
        Fixtures.preferenceData(tmp.resolve("pref.jsonl"), tmp.resolve("hh.jsonl"), tmp.resolve("sft.jsonl"));
        Files.writeString(tmp.resolve("p-sft.yaml"), "stage: sft\nbase_model: base\noutput_dir: unused\n"
                + "datasets:\n  - path: sft.jsonl\n    type: messages\nmax_steps: 2\nmicro_batch_size: 4\n"
                + "progress_bar: false\nlogging_steps: 1\n");
        Files.writeString(tmp.resolve("p-dpo.yaml"), "stage: dpo\nbase_model: base\noutput_dir: unused\n"
                + "datasets:\n  - path: pref.jsonl\n    type: preference\nmax_steps: 2\nmicro_batch_size: 4\n"
                + "progress_bar: false\nlogging_steps: 1\n");
        Path pipeline = tmp.resolve("pipeline.yaml");
        Files.writeString(pipeline, "output_dir: runs/pipe\nstages:\n  - name: sft\n    recipe: p-sft.yaml\n"
                + "  - name: dpo\n    recipe: p-dpo.yaml\n    base_model: sft\n    set: [dpo.beta=0.2]\n");
        CliTest.Run run = CliTest.run("train", pipeline.toString());
        assertEquals(0, run.code(), run.err());
        Path out = tmp.resolve("runs/pipe");
        assertTrue(Files.exists(out.resolve("sft/merged/model.safetensors")), "the consumed SFT stage is merged");
        String dpoRecipe = Files.readString(out.resolve("dpo/recipe.yaml"));
        assertTrue(dpoRecipe.contains(out.resolve("sft/merged").toAbsolutePath().toString()), dpoRecipe);
        assertTrue(dpoRecipe.contains("beta: 0.2"), dpoRecipe);
        assertTrue(Files.exists(out.resolve("dpo/adapter/adapter_model.safetensors")));
        // a reference to a stage that does not come earlier is refused by name
        Path bad = tmp.resolve("bad-pipeline.yaml");
        Files.writeString(bad, "stages:\n  - name: dpo\n    recipe: p-dpo.yaml\n    base_model: sft\n");
        CliTest.assertOneLineError(CliTest.run("train", bad.toString()), "not an earlier stage");
    }
}
