package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import org.junit.jupiter.api.Test;

/** The built-in PPO reward functions and the registry. */
class PpoRewardFunctionTest {
    @Test
    void exactMatchOnTrimmedTextOrFirstLine() {
        RewardFunction f = RewardFunction.of("exact_match");
        assertTrue(f.needsAnswer());
        assertEquals(1, f.score("p", "  42 \n", "42"));
        assertEquals(1, f.score("p", "\n42\nbecause 6 x 7", "42"));
        assertEquals(0, f.score("p", "the answer is 42", "42"));
        assertEquals(0, f.score("p", "", "42"));
    }

    @Test
    void containsLengthPenaltyAndCharFraction() {
        assertEquals(1, RewardFunction.of("contains").score("p", "the answer is 42.", " 42 "));
        assertEquals(0, RewardFunction.of("contains").score("p", "no idea", "42"));
        RewardFunction len = RewardFunction.of("length_penalty:4");
        assertFalse(len.needsAnswer());
        assertEquals(0, len.score("p", "abcd", null));
        assertEquals(-1, len.score("p", "abcdefgh", null));
        assertEquals(-0.01, RewardFunction.of("length_penalty").score("p", "x".repeat(101), null), 1e-12);
        RewardFunction chars = RewardFunction.of("char_fraction:ab");
        assertEquals(0.5, chars.score("p", "abxy", null));
        assertEquals(0, chars.score("p", "", null));
    }

    @Test
    void unknownNamesAndBadArgumentsAreOneLine() {
        LoroException e = assertThrows(LoroException.class, () -> RewardFunction.of("exact_mach"));
        assertTrue(e.getMessage().contains("unknown reward function 'exact_mach'") && e.getMessage().contains("exact_match"),
                e.getMessage());
        assertThrows(LoroException.class, () -> RewardFunction.of("length_penalty:-3"));
        assertThrows(LoroException.class, () -> RewardFunction.of("char_fraction"));
    }

    @Test
    void customFunctionsRegister() {
        RewardFunction.register("test_echo", arg -> (p, r, a) -> r.equals(p) ? 1 : 0);
        assertEquals(1, RewardFunction.of("test_echo").score("hi", "hi", null));
        RewardFunction.REGISTRY.remove("test_echo");
    }
}
