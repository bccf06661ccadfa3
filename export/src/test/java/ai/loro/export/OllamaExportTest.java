package ai.loro.export;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ollama folders: the Modelfile's lines, the TEMPLATE chosen by rendering, stops, refusals. */
class OllamaExportTest {
    @TempDir static Path tmp;
    static Path llama3Model;
    static Path chatmlModel;

    @BeforeAll
    static void models() throws Exception {
        llama3Model = ExportFixtures.model(tmp.resolve("l3"), ExportFixtures.llamaConfig(), "llama3", 1);
        chatmlModel = ExportFixtures.model(tmp.resolve("cm"), ExportFixtures.llamaConfig(), "chatml", 2);
    }

    @Test
    void llama3WithSeparateAdapter() throws Exception {
        Path adapter = ExportFixtures.adapter(llama3Model, tmp.resolve("ad"), ExportFixtures.lora(4, 8, false, java.util.Map.of()), 3);
        Path out = tmp.resolve("ollama-l3");
        OllamaExport.Result r = OllamaExport.export(llama3Model, adapter, out, GgmlType.F16, false, "You shift words.");
        assertEquals("llama3", r.format());
        assertTrue(Files.size(out.resolve("model.gguf")) > 0);
        assertTrue(Files.size(out.resolve("adapter.gguf")) > 0);
        String mf = Files.readString(out.resolve("Modelfile"));
        List<String> lines = mf.lines().toList();
        assertTrue(lines.contains("FROM ./model.gguf"), mf);
        assertTrue(lines.contains("ADAPTER ./adapter.gguf"), mf);
        assertTrue(lines.contains("PARAMETER stop \"<|eot_id|>\""), mf);
        assertTrue(mf.contains("TEMPLATE \"\"\"" + OllamaTemplates.LLAMA3_GO + "\"\"\"\n"), mf);
        assertTrue(lines.contains("SYSTEM \"\"\"You shift words.\"\"\""), mf);
        assertEquals(new GgufTestReader(out.resolve("adapter.gguf")).metadata.get("general.type"), "adapter");
        try (var files = Files.list(tmp)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary folder left");
        }
    }

    @Test
    void chatmlMergedHasOneStopPerEndOfTurnAndNoAdapterLine() throws Exception {
        Path adapter = ExportFixtures.adapter(chatmlModel, tmp.resolve("ad2"), ExportFixtures.lora(4, 8, false, java.util.Map.of()), 4);
        Path out = tmp.resolve("ollama-cm");
        OllamaExport.Result r = OllamaExport.export(chatmlModel, adapter, out, GgmlType.Q8_0, true, null);
        assertEquals("chatml", r.format());
        assertTrue(r.merged());
        assertFalse(Files.exists(out.resolve("adapter.gguf")));
        String mf = Files.readString(out.resolve("Modelfile"));
        assertFalse(mf.contains("ADAPTER"), mf);
        assertFalse(mf.contains("SYSTEM"), mf);
        assertEquals(List.of("PARAMETER stop \"<|im_end|>\""), mf.lines().filter(l -> l.startsWith("PARAMETER")).toList());
        assertTrue(mf.contains(OllamaTemplates.CHATML_GO));
    }

    @Test
    void javaTwinsRenderLikeTheJinjaTemplatesTheyMatch() {
        for (String template : List.of("llama3", "chatml")) {
            try (LoroTokenizer tok = LoroTokenizer.load(template.equals("llama3") ? llama3Model : chatmlModel)) {
                OllamaTemplates.Match m = OllamaTemplates.match(tok, "t");
                assertEquals(template, m.format().name());
                List<ChatMessage> other = List.of(ChatMessage.user("a\nb"), ChatMessage.assistant("c"));
                String hf = tok.applyChatTemplate(other, false);
                String bos = tok.bosToken() != null && hf.startsWith(tok.bosToken()) ? tok.bosToken() : "";
                assertEquals(hf.substring(bos.length()), m.format().renderer().render(other, false));
            }
        }
    }

    @Test
    void otherChatFormatsAndExistingFoldersAreRefused() throws Exception {
        Path llama2 = ExportFixtures.model(tmp.resolve("l2"), ExportFixtures.llamaConfig(), "llama2", 5);
        LoroException e = assertThrows(LoroException.class,
                () -> OllamaExport.export(llama2, null, tmp.resolve("o-l2"), GgmlType.F32, false, null));
        assertTrue(e.getMessage().contains("neither the Llama 3 nor the ChatML format"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o-l2")));
        Path alpaca = ExportFixtures.model(tmp.resolve("alp"), ExportFixtures.llamaConfig(), "alpaca", 5);
        e = assertThrows(LoroException.class,
                () -> OllamaExport.export(alpaca, null, tmp.resolve("o-alp"), GgmlType.F32, false, null));
        assertTrue(e.getMessage().contains("no Ollama TEMPLATE (Llama 3, ChatML) matches it"), e.getMessage());
        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("x"), "x");
        e = assertThrows(LoroException.class, () -> OllamaExport.export(llama3Model, null, busy, GgmlType.F32, false, null));
        assertTrue(e.getMessage().contains("already exists and is not empty"), e.getMessage());
    }

    @Test
    void realLlama3TemplateMatchesWithItsBos() throws Exception {
        Path tokDir = SharedTokenizer.llama3();
        try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
            OllamaTemplates.Match m = OllamaTemplates.match(tok, "llama3");
            assertEquals("llama3", m.format().name());
            // this tokenizer's encode adds no BOS (add_bos_token false in the GGUF), the template writes it: so does TEMPLATE
            assertEquals("<|begin_of_text|>", m.bosPrefix());
        }
    }
}
