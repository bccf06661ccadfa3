package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code loro export ollama}: a folder that {@code ollama create NAME -f DIR/Modelfile} takes as it is:
 * {@code model.gguf} (merged with the adapter when asked), or the base plus {@code adapter.gguf} as
 * Ollama's ADAPTER; a TEMPLATE in Go syntax that renders the model's chat format byte for byte
 * ({@link OllamaTemplates}); one {@code PARAMETER stop} per end-of-turn token (without them answers
 * run on past the turn); the system prompt when given. Assembled under a temporary name, then renamed.
 */
public final class OllamaExport {
    private OllamaExport() {}

    public static final String MODELFILE = "Modelfile";

    public record Result(Path dir, String format, List<String> stops, boolean merged) {}

    public static Result export(Path modelDir, Path adapterDir, Path outDir, GgmlType type, boolean merge, String system) {
        AtomicFiles.requireAbsentOrEmpty(outDir);
        OllamaTemplates.Match match;
        List<String> stops;
        try (LoroTokenizer tok = LoroTokenizer.load(modelDir)) {
            match = OllamaTemplates.match(tok, modelDir.toString());
            stops = StopTokens.texts(tok);
        }
        if (system != null && system.contains("\"\"\"")) {
            throw new LoroException("--system must not contain \"\"\" (it ends the Modelfile's SYSTEM block)");
        }
        Path tmp = AtomicFiles.tempSibling(outDir);
        boolean separateAdapter = adapterDir != null && !merge;
        try {
            Files.createDirectories(tmp);
            GgufModelExport.export(modelDir, separateAdapter ? null : adapterDir, tmp.resolve("model.gguf"), type);
            if (separateAdapter) {
                GgufLoraExport.export(modelDir, adapterDir, tmp.resolve("adapter.gguf"),
                        type == GgmlType.Q8_0 ? GgmlType.F16 : type);
            }
            Files.writeString(tmp.resolve(MODELFILE), modelfile(match.goTemplate(), stops, separateAdapter, system),
                    StandardCharsets.UTF_8);
            AtomicFiles.publishDirectory(tmp, outDir);
        } catch (IOException e) {
            throw new LoroException(outDir + ": cannot write the Ollama folder: " + e.getMessage(), e);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        return new Result(outDir, match.format().name(), stops, adapterDir != null && merge);
    }

    static String modelfile(String goTemplate, List<String> stops, boolean adapter, String system) {
        StringBuilder s = new StringBuilder();
        s.append("# Written by loro export ollama. Use: ollama create NAME -f Modelfile\n");
        s.append("FROM ./model.gguf\n");
        if (adapter) {
            s.append("ADAPTER ./adapter.gguf\n");
        }
        s.append("TEMPLATE \"\"\"").append(goTemplate).append("\"\"\"\n");
        for (String stop : stops) {
            s.append("PARAMETER stop \"").append(stop).append("\"\n");
        }
        if (system != null) {
            s.append("SYSTEM \"\"\"").append(system).append("\"\"\"\n");
        }
        return s.toString();
    }
}
