package ai.loro.core.train;

import ai.loro.core.io.AtomicFiles;
import ai.loro.core.model.NoGrad;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.io.SafeTensorsWriter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Training checkpoints: {@code <outputDir>/checkpoints/step-N/} holding
 * <ul>
 *   <li>{@value #WEIGHTS}: the trainable parameters by name,
 *   <li>{@value #OPTIMIZER}: AdamW's {@code <name>.exp_avg} and {@code <name>.exp_avg_sq},
 *   <li>{@value #STATE}: step, seed, optimizer step and hyperparameters, schedule, data position.
 * </ul>
 * A checkpoint is written into a {@code .tmp-step-N-*} folder and renamed into place: a folder named
 * {@code step-N} is complete by construction, and temp folders left by a crash are ignored.
 */
public final class Checkpoints {
    public static final String DIR = "checkpoints";
    public static final String WEIGHTS = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";
    private static final Pattern NAME = Pattern.compile("step-(\\d+)");
    private static final String TMP_PREFIX = ".tmp-step-";

    private Checkpoints() {}

    public static Path dir(Path outputDir) {
        return outputDir.resolve(DIR);
    }

    /** The step a checkpoint folder was written after. */
    public static int stepOf(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) {
            throw new LoroException(checkpoint + ": not a checkpoint folder (expected a name like step-100)");
        }
        return Integer.parseInt(m.group(1));
    }

    /** Complete checkpoints under {@code outputDir}, oldest first. */
    public static List<Path> complete(Path outputDir) {
        Path dir = dir(outputDir);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparingInt(Checkpoints::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new LoroException(dir + ": cannot list checkpoints: " + e.getMessage(), e);
        }
    }

    /** The newest complete checkpoint, if any. */
    public static Optional<Path> latest(Path outputDir) {
        List<Path> all = complete(outputDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Writes {@code step-N} atomically, then deletes the oldest complete checkpoints beyond
     * {@code keep} (0 keeps all) and any temp folders left by crashed saves.
     */
    public static Path save(Path outputDir, int step, Map<String, NDArray> trainable, AdamW.State optimizer,
                            ObjectNode trainerState, int keep) {
        Path dir = dir(outputDir);
        Path target = dir.resolve("step-" + step);
        Path tmp = dir.resolve(TMP_PREFIX + step + "-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            Files.createDirectories(tmp);
            SafeTensorsWriter.write(tmp.resolve(WEIGHTS), trainable, Map.of("format", "pt"), dtypeOf(trainable));
            SafeTensorsWriter.write(tmp.resolve(OPTIMIZER), optimizer.tensors(), Map.of("format", "pt"),
                    dtypeOf(optimizer.tensors()));
            Files.writeString(tmp.resolve(STATE), MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(trainerState));
            if (Files.exists(target)) {
                AtomicFiles.deleteTreeOrFail(target); // a re-run of the same step after resuming from an older checkpoint
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new LoroException(dir + ": the file system cannot rename folders atomically", e);
            }
        } catch (IOException e) {
            throw new LoroException(target + ": cannot write checkpoint: " + e.getMessage(), e);
        } finally {
            if (Files.exists(tmp)) {
                AtomicFiles.deleteTree(tmp);
            }
        }
        prune(outputDir, keep, target);
        return target;
    }

    private static void prune(Path outputDir, int keep, Path justWritten) {
        List<Path> all = new ArrayList<>(complete(outputDir));
        if (keep > 0) {
            for (int i = 0; i < all.size() - keep; i++) {
                if (!all.get(i).equals(justWritten)) {
                    AtomicFiles.deleteTree(all.get(i));
                }
            }
        }
        try (Stream<Path> s = Files.list(dir(outputDir))) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(TMP_PREFIX)).toList()) {
                AtomicFiles.deleteTree(p);
            }
        } catch (IOException e) {
            // nothing to clean
        }
    }

    /** Reads a checkpoint's trainer state. */
    public static ObjectNode readState(Path checkpoint) {
        Path f = checkpoint.resolve(STATE);
        try {
            JsonNode n = MetricsLog.JSON.readTree(f.toFile());
            if (!(n instanceof ObjectNode o)) {
                throw new LoroException(f + ": expected a JSON object");
            }
            return o;
        } catch (IOException e) {
            throw new LoroException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Copies a checkpoint's weights into {@code trainable} (in place) and its moments into {@code optimizer}. */
    public static void restore(Path checkpoint, Map<String, NDArray> trainable, AdamW optimizer, long optimizerStep) {
        NDManager tmp = NDManager.newBaseManager(trainable.values().iterator().next().getDevice());
        try (tmp; SafeTensorsFile w = SafeTensorsFile.open(checkpoint.resolve(WEIGHTS));
             SafeTensorsFile o = SafeTensorsFile.open(checkpoint.resolve(OPTIMIZER));
             NoGrad ng = new NoGrad()) {
            for (Map.Entry<String, NDArray> e : trainable.entrySet()) {
                if (!w.tensors().containsKey(e.getKey())) {
                    throw new LoroException(checkpoint.resolve(WEIGHTS) + ": no tensor '" + e.getKey()
                            + "' (the checkpoint was written for a different set of trainable parameters)");
                }
                AdamW.copyInto(e.getValue(), w.load(e.getKey(), tmp, e.getValue().getDataType()), e.getKey());
            }
            Map<String, NDArray> moments = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : optimizer.state().tensors().entrySet()) {
                if (!o.tensors().containsKey(e.getKey())) {
                    throw new LoroException(checkpoint.resolve(OPTIMIZER) + ": no tensor '" + e.getKey() + "'");
                }
                moments.put(e.getKey(), o.load(e.getKey(), tmp, e.getValue().getDataType()));
            }
            optimizer.loadState(new AdamW.State(optimizerStep, moments));
        }
    }

    private static String dtypeOf(Map<String, NDArray> tensors) {
        DataType t = null;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            DataType d = e.getValue().getDataType();
            if (t != null && d != t) {
                throw new LoroException("cannot checkpoint parameters of mixed data types (" + t + " and " + d + ")");
            }
            t = d;
        }
        if (t == DataType.FLOAT32) {
            return "F32";
        } else if (t == DataType.FLOAT16) {
            return "F16";
        }
        throw new LoroException("cannot checkpoint " + t + " parameters exactly (supported: FLOAT32, FLOAT16)");
    }

}
