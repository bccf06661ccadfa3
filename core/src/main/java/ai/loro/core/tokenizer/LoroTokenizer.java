package ai.loro.core.tokenizer;

import ai.loro.core.io.JsonFields;
import ai.loro.core.LoroException;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer directory: {@code tokenizer.json} (required, loaded by DJL's native
 * tokenizers binding), {@code tokenizer_config.json} (optional: special tokens, add_bos_token,
 * chat_template) and {@code chat_template.jinja} (optional, takes priority over the inline template).
 *
 * <p>Encoding never truncates or pads. With {@code addSpecialTokens=true} the special tokens are
 * those transformers adds for the same files: when tokenizer_config.json sets add_bos_token or
 * add_eos_token, or its tokenizer_class is a Llama tokenizer (which defaults to add_bos_token=true,
 * add_eos_token=false), the result is [bos] + text tokens + [eos] as configured, as
 * LlamaTokenizerFast rebuilds its post-processor; otherwise the tokenizer.json post-processor decides
 * (e.g. TemplateProcessing adds BOS; the ByteLevel post-processor adds nothing).
 *
 * <p>{@link #decode} never applies clean_up_tokenization_spaces, so text round-trips exactly.
 */
public final class LoroTokenizer implements AutoCloseable {
    private static final Set<String> LLAMA_CLASSES = Set.of(
            "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
            "GemmaTokenizer", "GemmaTokenizerFast");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path directory;
    private final HuggingFaceTokenizer hf;
    private final Map<String, Long> tokenIds;
    private final int vocabSize;
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final String unkToken;
    private final List<String> additionalSpecialTokens;
    private final Boolean addBos;
    private final Boolean addEos;
    private final ChatTemplate chatTemplate;
    private final Map<String, ChatTemplate> namedTemplates;
    private final String chatTemplateProblem;

    private LoroTokenizer(Path directory, HuggingFaceTokenizer hf, Map<String, Long> tokenIds, int vocabSize,
            JsonNode config, Path configFile, ChatTemplate fileTemplate) {
        this.directory = directory;
        this.hf = hf;
        this.tokenIds = tokenIds;
        this.vocabSize = vocabSize;
        String cf = configFile.toString();
        this.bosToken = specialToken(config, "bos_token", cf);
        this.eosToken = specialToken(config, "eos_token", cf);
        this.padToken = specialToken(config, "pad_token", cf);
        this.unkToken = specialToken(config, "unk_token", cf);
        List<String> extra = new ArrayList<>();
        JsonNode ast = config.get("additional_special_tokens");
        if (ast != null && ast.isArray()) {
            for (JsonNode n : ast) {
                String t = tokenText(n, "additional_special_tokens", cf);
                if (t != null) {
                    extra.add(t);
                }
            }
        }
        this.additionalSpecialTokens = List.copyOf(extra);
        Boolean ab = new JsonFields(config, cf).optionalBool("add_bos_token");
        Boolean ae = new JsonFields(config, cf).optionalBool("add_eos_token");
        JsonNode cls = config.get("tokenizer_class");
        boolean llama = cls != null && cls.isTextual() && LLAMA_CLASSES.contains(cls.asText());
        if (ab != null || ae != null || llama) {
            this.addBos = ab != null ? ab : llama;
            this.addEos = ae != null ? ae : false;
        } else {
            this.addBos = null;
            this.addEos = null;
        }
        Map<String, ChatTemplate> named = new LinkedHashMap<>();
        ChatTemplate inline = null;
        String problem = null;
        JsonNode ct = config.get("chat_template");
        if (ct != null && !ct.isNull()) {
            if (ct.isTextual()) {
                inline = ChatTemplate.of(ct.asText(), cf + " chat_template");
            } else if (ct.isArray()) {
                for (JsonNode entry : ct) {
                    JsonNode name = entry.get("name");
                    JsonNode tmpl = entry.get("template");
                    if (name == null || !name.isTextual() || tmpl == null || !tmpl.isTextual()) {
                        throw new LoroException(cf + ": chat_template list entries must be {\"name\": string,"
                                + " \"template\": string}, got " + LoroException.oneLine(entry.toString(), 120));
                    }
                    named.put(name.asText(), ChatTemplate.of(tmpl.asText(),
                            cf + " chat_template '" + name.asText() + "'"));
                }
                inline = named.get("default");
                if (inline == null && !named.isEmpty()) {
                    problem = cf + ": chat_template has no 'default' entry; named templates: "
                            + String.join(", ", named.keySet());
                }
            } else {
                throw new LoroException(cf + ": chat_template must be a string or a list of {name, template},"
                        + " got " + ct.getNodeType().toString().toLowerCase());
            }
        }
        this.namedTemplates = Collections.unmodifiableMap(named);
        if (fileTemplate != null) {
            this.chatTemplate = fileTemplate;
            this.chatTemplateProblem = null;
        } else {
            this.chatTemplate = inline;
            this.chatTemplateProblem = problem;
        }
    }

    /**
     * Loads {@code dir/tokenizer.json} (required), {@code dir/tokenizer_config.json} and
     * {@code dir/chat_template.jinja} (optional).
     *
     * @throws LoroException naming the file when one is missing or malformed
     */
    public static LoroTokenizer load(Path dir) {
        if (dir == null) {
            throw new LoroException("tokenizer directory: no path given");
        }
        if (Files.isRegularFile(dir) && dir.getFileName().toString().equals("tokenizer.json")) {
            dir = dir.toAbsolutePath().getParent();
        }
        if (!Files.isDirectory(dir)) {
            throw new LoroException(dir + ": tokenizer directory not found; give a folder holding tokenizer.json");
        }
        Path tokFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) {
            throw new LoroException(tokFile + ": file not found; a tokenizer directory needs tokenizer.json"
                    + " (Hugging Face tokenizers format)");
        }
        byte[] tokBytes;
        try {
            tokBytes = Files.readAllBytes(tokFile);
        } catch (IOException e) {
            throw new LoroException(tokFile + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Long> ids = new HashMap<>();
        long maxId = readVocab(tokBytes, tokFile, ids);

        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = MAPPER.createObjectNode();
        if (Files.exists(configFile)) {
            try {
                config = MAPPER.readTree(configFile.toFile());
            } catch (IOException e) {
                throw new LoroException(configFile + ": not valid JSON: "
                        + LoroException.oneLine(String.valueOf(e.getMessage()), 200), e);
            }
            if (config == null || !config.isObject()) {
                throw new LoroException(configFile + ": must hold a JSON object");
            }
        }
        ChatTemplate fileTemplate = null;
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                fileTemplate = ChatTemplate.of(Files.readString(jinja, StandardCharsets.UTF_8), jinja.toString());
            } catch (IOException e) {
                throw new LoroException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }

        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        options.put("modelMaxLength", String.valueOf(Integer.MAX_VALUE));
        if (System.getProperty("OPT_OUT_TRACKING") == null && System.getenv("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true"); // no DJL usage ping (Ec2Utils.callHome) from loading
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokBytes), options);
        } catch (IOException | RuntimeException e) {
            throw new LoroException(tokFile + ": not a valid Hugging Face tokenizer.json: "
                    + LoroException.oneLine(String.valueOf(e.getMessage()), 200), e);
        }
        try {
            return new LoroTokenizer(dir, hf, ids, (int) (maxId + 1), config, configFile, fileTemplate);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }


    /** Reads model.vocab and added_tokens into ids; returns the largest id. */
    private static long readVocab(byte[] json, Path file, Map<String, Long> ids) {
        long maxId = -1;
        boolean sawModel = false;
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new LoroException(file + ": not a Hugging Face tokenizer.json: the top level must be an object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("model") && t == JsonToken.START_OBJECT) {
                    sawModel = true;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String mf = p.currentName();
                        JsonToken mt = p.nextToken();
                        if (mf.equals("vocab") && mt == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String tok = p.currentName();
                                p.nextToken();
                                long id = p.getLongValue();
                                ids.put(tok, id);
                                maxId = Math.max(maxId, id);
                            }
                        } else if (mf.equals("vocab") && mt == JsonToken.START_ARRAY) {
                            // Unigram: [[piece, score], ...], id = position
                            long id = 0;
                            while (p.nextToken() == JsonToken.START_ARRAY) {
                                p.nextToken();
                                ids.putIfAbsent(p.getText(), id);
                                maxId = Math.max(maxId, id);
                                id++;
                                while (p.nextToken() != JsonToken.END_ARRAY) {
                                    p.skipChildren();
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                } else if (field.equals("added_tokens") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        JsonNode n = MAPPER.readTree(p);
                        JsonNode id = n.get("id");
                        JsonNode content = n.get("content");
                        if (id == null || !id.canConvertToLong() || content == null || !content.isTextual()) {
                            throw new LoroException(file + ": added_tokens entries need an integer id and a string"
                                    + " content, got " + LoroException.oneLine(n.toString(), 120));
                        }
                        ids.put(content.asText(), id.asLong());
                        maxId = Math.max(maxId, id.asLong());
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new LoroException(file + ": not valid JSON: " + LoroException.oneLine(e.getMessage(), 200), e);
        }
        if (!sawModel || maxId < 0) {
            throw new LoroException(file + ": not a Hugging Face tokenizer.json: no model.vocab entries");
        }
        return maxId;
    }

    private static String tokenText(JsonNode n, String key, String file) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isObject() && n.get("content") != null && n.get("content").isTextual()) {
            return n.get("content").asText();
        }
        throw new LoroException(file + ": " + key + " must be a string, null or an AddedToken object"
                + " {\"content\": string, ...}, got " + LoroException.oneLine(n.toString(), 120));
    }

    private static String specialToken(JsonNode config, String key, String file) {
        return tokenText(config.get(key), key, file);
    }


    /**
     * Token ids of text. Never truncates or pads. {@code addSpecialTokens=false} adds nothing (no BOS);
     * true adds what transformers adds for these files (see the class comment).
     */
    public long[] encode(String text, boolean addSpecialTokens) {
        if (text == null) {
            throw new LoroException("tokenizer " + directory + ": cannot encode null text");
        }
        if (!addSpecialTokens || addBos == null) {
            return hf.encode(text, addSpecialTokens, false).getIds();
        }
        long[] body = hf.encode(text, false, false).getIds();
        Long bos = addBos ? bosId() : null;
        Long eos = addEos ? eosId() : null;
        int n = body.length + (bos != null ? 1 : 0) + (eos != null ? 1 : 0);
        long[] out = new long[n];
        int k = 0;
        if (bos != null) {
            out[k++] = bos;
        }
        System.arraycopy(body, 0, out, k, body.length);
        if (eos != null) {
            out[n - 1] = eos;
        }
        return out;
    }

    /** The tokens (vocabulary strings) of text, without special tokens added. */
    public List<String> tokenize(String text) {
        if (text == null) {
            throw new LoroException("tokenizer " + directory + ": cannot tokenize null text");
        }
        return List.of(hf.encode(text, false, false).getTokens());
    }

    /** Text of ids; special tokens dropped when skipSpecialTokens. No clean-up of spaces. */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        if (ids == null) {
            throw new LoroException("tokenizer " + directory + ": cannot decode null ids");
        }
        for (long id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new LoroException("tokenizer " + directory + ": token id " + id + " is out of range; allowed 0.."
                        + (vocabSize - 1));
            }
        }
        return hf.decode(ids, skipSpecialTokens);
    }

    /** Largest token id + 1, over the model vocabulary and added tokens. */
    public int vocabSize() {
        return vocabSize;
    }

    public Long bosId() {
        return bosToken == null ? null : tokenIds.get(bosToken);
    }

    public Long eosId() {
        return eosToken == null ? null : tokenIds.get(eosToken);
    }

    public Long padId() {
        return padToken == null ? null : tokenIds.get(padToken);
    }

    public Long unkId() {
        return unkToken == null ? null : tokenIds.get(unkToken);
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    public String padToken() {
        return padToken;
    }

    public String unkToken() {
        return unkToken;
    }

    /**
     * The id of a vocabulary entry or added token, written as the vocabulary writes it (byte-level
     * vocabularies write a leading space as "Ġ"); null when it is not a single token.
     */
    public Long tokenId(String token) {
        return token == null ? null : tokenIds.get(token);
    }

    /**
     * Whether {@code encode(text, true)} starts with BOS: true, false, or null when the tokenizer.json
     * post-processor decides (then compare {@code encode("", true)} with {@link #bosId()}).
     */
    public Boolean addsBosToken() {
        return addBos;
    }

    /**
     * The chat template: chat_template.jinja in the directory, else tokenizer_config.json
     * chat_template (a string, or the "default" entry of a list of {name, template}); null when none.
     *
     * @throws LoroException when the config holds only named templates and none is "default"
     */
    public ChatTemplate chatTemplate() {
        if (chatTemplateProblem != null) {
            throw new LoroException(chatTemplateProblem);
        }
        return chatTemplate;
    }

    /** Named templates from a chat_template list (empty when chat_template is a string). */
    public Map<String, ChatTemplate> namedChatTemplates() {
        return namedTemplates;
    }

    /**
     * Renders messages with {@link #chatTemplate()} and {@link #specialTokensMap()}.
     *
     * @throws LoroException when there is no chat template or it cannot be rendered
     */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return applyChatTemplate(messages, addGenerationPrompt, Map.of());
    }

    /** As {@link #applyChatTemplate(List, boolean)}, with extra template variables that override. */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt,
            Map<String, Object> variables) {
        ChatTemplate t = chatTemplate();
        if (t == null) {
            throw new LoroException(directory.resolve("tokenizer_config.json") + ": no chat_template (and no"
                    + " chat_template.jinja); choose a builtin template: " + String.join(", ", ChatTemplate.builtinNames()));
        }
        Map<String, Object> vars = new HashMap<>(specialTokensMap());
        if (variables != null) {
            vars.putAll(variables);
        }
        return t.render(messages, addGenerationPrompt, vars);
    }

    /**
     * Template variables: bos_token, eos_token, pad_token, unk_token (those that are set) and
     * additional_special_tokens (when listed).
     */
    public Map<String, Object> specialTokensMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (bosToken != null) {
            m.put("bos_token", bosToken);
        }
        if (eosToken != null) {
            m.put("eos_token", eosToken);
        }
        if (unkToken != null) {
            m.put("unk_token", unkToken);
        }
        if (padToken != null) {
            m.put("pad_token", padToken);
        }
        if (!additionalSpecialTokens.isEmpty()) {
            m.put("additional_special_tokens", additionalSpecialTokens);
        }
        return Collections.unmodifiableMap(m);
    }

    public Path directory() {
        return directory;
    }

    @Override
    public void close() {
        hf.close();
    }

    @Override
    public String toString() {
        return "LoroTokenizer[" + directory + ", vocab " + vocabSize + "]";
    }
}
