package ai.loro.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.loro.core.tokenizer.ChatMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Go TEMPLATEs rendered by Go's own text/template (Ollama's engine) equal their Java twins, which
 * the export matches against the model's Jinja template. Needs {@code go} on the PATH (.ci/run installs
 * Debian's golang-go); skipped elsewhere.
 */
class OllamaGoTemplateTest {
    @TempDir Path tmp;

    static final List<List<ChatMessage>> CONVERSATIONS = List.of(
            OllamaTemplates.PROBE,
            List.of(ChatMessage.user("only a user turn")),
            List.of(ChatMessage.system("sys"), ChatMessage.user("q"), ChatMessage.assistant("partial answer")),
            List.of(ChatMessage.user("line one\nline two\n\n"), ChatMessage.assistant("a"), ChatMessage.user("\"quotes\" {{ braces }}")));

    @Test
    void goRendersLikeTheJavaTwin() throws Exception {
        assumeTrue(onPath(), "go not on the PATH; Go template check skipped");
        Path program = tmp.resolve("render.go");
        try (var in = getClass().getResourceAsStream("/render-go-template.go")) {
            Files.copy(in, program, StandardCopyOption.REPLACE_EXISTING);
        }
        for (OllamaTemplates.Format f : OllamaTemplates.FORMATS) {
            Path template = tmp.resolve(f.name() + ".tmpl");
            Files.writeString(template, f.goTemplate(), StandardCharsets.UTF_8);
            for (List<ChatMessage> conversation : CONVERSATIONS) {
                Path messages = tmp.resolve("messages.json");
                var arr = ExportFixtures.JSON.createArrayNode();
                for (ChatMessage m : conversation) {
                    arr.addObject().put("role", m.role()).put("content", m.content());
                }
                ExportFixtures.JSON.writeValue(messages.toFile(), arr);
                boolean endsWithAssistant = conversation.get(conversation.size() - 1).role().equals("assistant");
                String expected = f.renderer().render(conversation, !endsWithAssistant);
                if (endsWithAssistant) {
                    // Ollama leaves a final assistant turn open for the model to continue: no end-of-turn marker
                    String marker = f.name().equals("llama3") ? "<|eot_id|>" : "<|im_end|>\n";
                    expected = expected.substring(0, expected.length() - marker.length());
                }
                assertEquals(expected, run(program, template, messages), f.name() + " " + conversation);
            }
        }
    }

    private static boolean onPath() {
        try {
            Process p = new ProcessBuilder("go", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private String run(Path program, Path template, Path messages) throws Exception {
        Process p = new ProcessBuilder("go", "run", program.toString(), template.toString(), messages.toString())
                .directory(tmp.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor(120, TimeUnit.SECONDS), "go run timed out");
        assertEquals(0, p.exitValue(), "go run failed");
        return out;
    }
}
