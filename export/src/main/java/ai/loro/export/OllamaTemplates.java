package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.List;

/**
 * Ollama TEMPLATEs (Go text/template over {@code .Messages}) for the chat formats Loro can hand over,
 * each with a Java rendering of what that Go template produces. A model's Jinja chat template is
 * matched by rendering one probe conversation both ways: only a template that renders byte for byte
 * like one of these is exported, so Ollama prompts the model exactly as it was trained.
 * Ollama puts the Modelfile's SYSTEM in front of {@code .Messages} as a system message when the request
 * has none, so the templates render system messages like any other role.
 */
final class OllamaTemplates {
    private OllamaTemplates() {}

    /** One chat format: its name, the Go template, and its Java twin. */
    record Format(String name, String goTemplate, Renderer renderer) {}

    interface Renderer {
        String render(List<ChatMessage> messages, boolean addGenerationPrompt);
    }

    static final String LLAMA3_GO = """
            {{- range $i, $_ := .Messages }}
            {{- $last := eq (len (slice $.Messages $i)) 1 -}}
            <|start_header_id|>{{ .Role }}<|end_header_id|>

            {{ .Content }}{{ if or (ne .Role "assistant") (not $last) }}<|eot_id|>{{ end }}
            {{- if and $last (ne .Role "assistant") }}<|start_header_id|>assistant<|end_header_id|>

            {{ end }}
            {{- end }}""";

    static final String CHATML_GO = """
            {{- range $i, $_ := .Messages }}
            {{- $last := eq (len (slice $.Messages $i)) 1 -}}
            <|im_start|>{{ .Role }}
            {{ .Content }}{{ if or (ne .Role "assistant") (not $last) }}<|im_end|>
            {{ end }}
            {{- if and $last (ne .Role "assistant") }}<|im_start|>assistant
            {{ end }}
            {{- end }}""";

    static String llama3(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder s = new StringBuilder();
        for (ChatMessage m : messages) {
            s.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n").append(m.content()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
            s.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        return s.toString();
    }

    static String chatml(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder s = new StringBuilder();
        for (ChatMessage m : messages) {
            s.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            s.append("<|im_start|>assistant\n");
        }
        return s.toString();
    }

    static final List<Format> FORMATS = List.of(
            new Format("llama3", LLAMA3_GO, OllamaTemplates::llama3),
            new Format("chatml", CHATML_GO, OllamaTemplates::chatml));

    /** The probe: a system prompt, a finished exchange and an open user turn (what a chat request sends). */
    static final List<ChatMessage> PROBE = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi there"),
            ChatMessage.assistant("Hello! How can I help?"), ChatMessage.user("Shift cafe."));

    /** The format whose Go template prompts like the tokenizer's chat template, with any BOS text it starts with. */
    record Match(Format format, String bosPrefix) {
        String goTemplate() {
            return bosPrefix + format.goTemplate();
        }
    }

    static Match match(LoroTokenizer tok, String where) {
        if (tok.chatTemplate() == null) {
            throw new LoroException(where + ": the tokenizer has no chat_template; Ollama needs a TEMPLATE for chat"
                    + " (train with a chat template, e.g. Llama 3 or ChatML)");
        }
        String hf;
        try {
            hf = tok.applyChatTemplate(PROBE, true);
        } catch (RuntimeException e) {
            throw new LoroException(where + ": the chat template does not render a system / user / assistant conversation,"
                    + " so no Ollama TEMPLATE (Llama 3, ChatML) matches it: " + e.getMessage(), e);
        }
        // BOS: GGUF's add_bos_token says whether llama.cpp adds it; a template that writes it as text keeps it
        String bos = tok.bosToken() != null && hf.startsWith(tok.bosToken()) && !GgufTokenizer.addsBos(tok) ? tok.bosToken() : "";
        String body = tok.bosToken() != null && hf.startsWith(tok.bosToken()) ? hf.substring(tok.bosToken().length()) : hf;
        for (Format f : FORMATS) {
            if (f.renderer().render(PROBE, true).equals(body)) {
                return new Match(f, bos);
            }
        }
        throw new LoroException(where + ": the chat template renders neither the Llama 3 nor the ChatML format"
                + " (the formats with an Ollama TEMPLATE here); its render starts "
                + abbreviate(hf) + " — hand Ollama the GGUF with your own TEMPLATE instead (loro export gguf)");
    }

    private static String abbreviate(String s) {
        String t = s.replace("\n", "\\n");
        return "'" + (t.length() > 100 ? t.substring(0, 100) + "..." : t) + "'";
    }
}
