package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class of native crash behind the two SIGSEGVs inside torchBackward (docs/engine.md, "Memory the
 * JVM can free"): an array that enters the autograd graph backed by a Java buffer the garbage collector
 * may free before the backward pass reads it. Such an array makes a run's gradients depend on when the
 * collector runs. Each run here trains the paths that crashed (an NF4 base; fp16 with fp32 masters;
 * gradient checkpointing, which keeps layer inputs across forward and backward) once quietly and once
 * while another thread forces a full GC every millisecond, so collections fall between forward and
 * backward many times per step: the adapters must come out byte for byte the same.
 */
class GcStressTest {
    @TempDir static Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        Fixtures.tinyBase(tmp);
        Fixtures.additionData(tmp, 32);
    }

    private static byte[] train(String name, String extra, boolean hammer) throws Exception {
        Path recipe = Fixtures.recipe(tmp, name, "sft", "data.jsonl", "alpaca",
                "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.1\n  target_modules: all-linear\n"
                        + "sequence_len: 64\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1.0e-2\n"
                        + "logging_steps: 5\nprogress_bar: false\nmax_steps: 16\n" + extra);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong collections = new AtomicLong();
        Thread gc = new Thread(() -> {
            while (!stop.get()) {
                System.gc();
                collections.incrementAndGet();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        gc.setDaemon(true);
        if (hammer) {
            gc.start();
        }
        try {
            CliTest.Run r = CliTest.run("train", recipe.toString());
            assertEquals(0, r.code(), r.err());
        } finally {
            stop.set(true);
            gc.join();
        }
        if (hammer) {
            System.out.printf("%s: %d forced collections during training%n", name, collections.get());
        }
        return Files.readAllBytes(tmp.resolve("runs/" + name + "/adapter/adapter_model.safetensors"));
    }

    @Test
    void nf4BaseWithCheckpointing() throws Exception {
        String extra = "quantize: nf4\ngradient_checkpointing: true\n";
        assertArrayEquals(train("nf4-quiet", extra, false), train("nf4-gc", extra, true));
    }

    @Test
    void fp16WithMastersAndNf4() throws Exception {
        String extra = "fp16: true\nquantize: nf4\n";
        assertArrayEquals(train("fp16-quiet", extra, false), train("fp16-gc", extra, true));
    }

    @Test
    void fp32Plain() throws Exception {
        assertArrayEquals(train("fp32-quiet", "", false), train("fp32-gc", "", true));
    }
}
