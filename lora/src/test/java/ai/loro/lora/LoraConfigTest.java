package ai.loro.lora;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
    @Test
    void scaleIsAlphaOverROrOverSqrtRWithRslora() {
        LoraConfig c = LoraConfig.of(16, 32, 0, "q_proj");
        assertEquals(2.0, c.scale(16));
        assertEquals(4.0, c.scale(8));
        assertEquals(32 / 4.0, c.withRslora(true).scale(16));
        assertEquals(32 / Math.sqrt(8), c.withRslora(true).scale(8), 0);
    }

    @Test
    void targetsAreSortedDeduplicatedAndAllLinearExpands() {
        assertEquals(List.of("q_proj", "v_proj"), LoraConfig.of(8, 8, 0, "v_proj", "q_proj", "v_proj").targetModules());
        LoraConfig all = LoraConfig.of(8, 8, 0, "all-linear");
        assertEquals(List.of("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"), all.targetModules());
        assertEquals(7, all.targetProjections().size());
        assertTrue(all.targets(HfNames.module(1, HfNames.Proj.DOWN)));
        LoraConfig q = LoraConfig.of(8, 8, 0, "q_proj");
        assertTrue(q.targets("model.layers.0.self_attn.q_proj"));
        assertFalse(q.targets("model.layers.0.self_attn.k_proj"));
    }

    @Test
    void invalidValuesAreOneLineErrors() {
        LoroException e = assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 0, "q_proj", "qproj"));
        assertTrue(e.getMessage().contains("'qproj'") && e.getMessage().contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"),
                e.getMessage());
        assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 0, "all-linear", "q_proj"));
        assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 0));
        assertTrue(assertThrows(LoroException.class, () -> LoraConfig.of(0, 8, 0, "q_proj")).getMessage().contains("r must be >= 1"));
        assertTrue(assertThrows(LoroException.class, () -> LoraConfig.of(8, 0, 0, "q_proj")).getMessage().contains("alpha"));
        assertThrows(LoroException.class, () -> LoraConfig.of(8, -1, 0, "q_proj"));
        assertThrows(LoroException.class, () -> LoraConfig.of(8, Double.NaN, 0, "q_proj"));
        assertTrue(assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 1.0, "q_proj")).getMessage().contains("dropout"));
        assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, -0.1, "q_proj"));
        for (String bias : List.of("all", "lora_only", "weird")) {
            LoroException b = assertThrows(LoroException.class,
                    () -> new LoraConfig(8, 8, 0, false, List.of("q_proj"), null, null, bias, null));
            assertTrue(b.getMessage().contains("'" + bias + "'"), b.getMessage());
            assertFalse(b.getMessage().contains("\n"));
        }
        assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 0, "q_proj").withPatterns(Map.of("q_proj", 0), null));
        assertThrows(LoroException.class, () -> LoraConfig.of(8, 8, 0, "q_proj").withPatterns(Map.of("q_proj(", 4), null));
    }

    @Test
    void patternsUsePeftMatching() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("layers.1.self_attn.q_proj", 2);
        ranks.put("v_proj", 4);
        ranks.put("0.mlp.down_proj", 3);
        LoraConfig c = LoraConfig.of(8, 16, 0, "all-linear").withPatterns(ranks, Map.of("q_proj", 4.0));
        assertEquals(8, c.rankFor("model.layers.0.self_attn.q_proj"));
        assertEquals(2, c.rankFor("model.layers.1.self_attn.q_proj"));
        assertEquals(4, c.rankFor("model.layers.0.self_attn.v_proj"));
        assertEquals(3, c.rankFor("model.layers.0.mlp.down_proj"));
        assertEquals(8, c.rankFor("model.layers.10.mlp.down_proj"), "key must match at a '.' boundary");
        assertEquals(4.0, c.alphaFor("model.layers.1.self_attn.q_proj"));
        assertEquals(16.0, c.alphaFor("model.layers.1.self_attn.k_proj"));
        assertEquals(4.0 / 2, c.scaleFor("model.layers.1.self_attn.q_proj"));
        assertEquals(16.0 / 4, c.scaleFor("model.layers.0.self_attn.v_proj"));
        assertEquals(8, c.maxRank());
    }
}
