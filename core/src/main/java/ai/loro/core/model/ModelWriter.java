package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face model directory (config.json, safetensors shards, tokenizer files,
 * generation_config.json with every stop token: {@link GenerationConfig#forModel}). The
 * directory is assembled under a temporary sibling name and renamed into place, so a reader never
 * sees a half-written model.
 */
public final class ModelWriter {
    private ModelWriter() {}

    /** transformers' default shard size. */
    public static final long MAX_SHARD_BYTES = 5_000_000_000L;

    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja");

    /**
     * @param dtype "F32", "F16" or "BF16"
     * @param tokenizerDir folder whose tokenizer files are copied alongside (and whose generation_config.json
     *     fields are kept in the one written), or null
     */
    public static void save(Path out, LlamaConfig config, Map<String, NDArray> tensors, String dtype, Path tokenizerDir) {
        AtomicFiles.requireAbsentOrEmpty(out);
        Path tmp = AtomicFiles.tempSibling(out);
        try {
            Files.createDirectories(tmp);
            Files.writeString(tmp.resolve("config.json"), config.toJsonString(dtype));
            SafeTensorsWriter.writeCheckpoint(tmp, tensors, dtype, MAX_SHARD_BYTES);
            if (tokenizerDir != null) {
                for (String f : TOKENIZER_FILES) {
                    Path src = tokenizerDir.resolve(f);
                    if (Files.isRegularFile(src)) {
                        Files.copy(src, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            GenerationConfig.forModel(config, tokenizerDir).write(tmp);
            AtomicFiles.publishDirectory(tmp, out);
        } catch (IOException e) {
            throw new LoroException(out + ": cannot write model: " + e.getMessage());
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }



    /**
     * Names a written classifier's labels in its config.json ({@code id2label} / {@code label2id},
     * as transformers reads them); {@code names.size()} must equal the config's num_labels.
     */
    public static void writeLabelNames(Path modelDir, java.util.List<String> names) {
        Path file = modelDir.resolve("config.json");
        try {
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            com.fasterxml.jackson.databind.node.ObjectNode cfg = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(file.toFile());
            com.fasterxml.jackson.databind.node.ObjectNode id2label = cfg.putObject("id2label");
            com.fasterxml.jackson.databind.node.ObjectNode label2id = cfg.putObject("label2id");
            for (int i = 0; i < names.size(); i++) {
                id2label.put(String.valueOf(i), names.get(i));
                label2id.put(names.get(i), i);
            }
            AtomicFiles.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write label names: " + e.getMessage(), e);
        }
    }
}
