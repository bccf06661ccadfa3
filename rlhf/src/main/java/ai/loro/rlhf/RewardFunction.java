package ai.loro.rlhf;

import ai.loro.core.LoroException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A programmatic reward for PPO: scores one generated response. Recipes name them in
 * {@code ppo.reward_functions} as {@code name} or {@code name:argument}; their scores (and the
 * reward model's, when there is one) are summed per response.
 *
 * <p>Built in:
 * <ul>
 *   <li>{@code exact_match}: 1 when the response, trimmed, equals the answer, trimmed, or its first
 *       non-empty line does; else 0. Needs an {@code answer} on every prompt row.
 *   <li>{@code contains}: 1 when the response contains the trimmed answer; else 0. Needs answers.
 *   <li>{@code length_penalty[:N]}: {@code −max(0, chars − N) / N} (N = 100 by default): 0 up to N
 *       characters, −1 at 2N.
 *   <li>{@code char_fraction:CHARS}: the share of the response's characters that are among CHARS
 *       (0 when empty); a toy reward that is easy to learn, for tests and demonstrations.
 *   <li>{@code regex:PATTERN}: 1 when the whole response matches the Java regular expression
 *       PATTERN (with {@code .} matching newlines too), else 0: a format reward (e.g.
 *       {@code regex:<think>.*</think>.*}). Everything after the first ':' is the pattern.
 * </ul>
 * More can be added with {@link #register}.
 */
@FunctionalInterface
public interface RewardFunction {
    /**
     * @param prompt the rendered prompt text (chat template applied)
     * @param response the generated text, without the EOS token
     * @param answer the row's {@code answer}, or null when it has none
     */
    double score(String prompt, String response, String answer);

    /** Whether the function needs an answer on every prompt row. */
    default boolean needsAnswer() {
        return false;
    }

    /** Registered factories by name; each gets the text after ':' (or null). */
    Map<String, Function<String, RewardFunction>> REGISTRY = new ConcurrentHashMap<>(Map.of(
            "regex", arg -> {
                if (arg == null || arg.isEmpty()) {
                    throw new LoroException("reward function 'regex' needs a pattern after ':', e.g. regex:^[a-h]{4}$");
                }
                java.util.regex.Pattern pattern;
                try {
                    pattern = java.util.regex.Pattern.compile(arg, java.util.regex.Pattern.DOTALL);
                } catch (java.util.regex.PatternSyntaxException e) {
                    throw new LoroException("reward function 'regex:" + arg + "': not a valid regular expression ("
                            + e.getDescription() + " near index " + e.getIndex() + ")");
                }
                return (prompt, response, answer) -> pattern.matcher(response).matches() ? 1 : 0;
            },
            "exact_match", arg -> new RewardFunction() {
                @Override
                public double score(String prompt, String response, String answer) {
                    String want = answer.trim();
                    if (response.trim().equals(want)) {
                        return 1;
                    }
                    for (String line : response.split("\n", -1)) {
                        if (!line.isBlank()) {
                            return line.trim().equals(want) ? 1 : 0;
                        }
                    }
                    return 0;
                }

                @Override
                public boolean needsAnswer() {
                    return true;
                }
            },
            "contains", arg -> new RewardFunction() {
                @Override
                public double score(String prompt, String response, String answer) {
                    return response.contains(answer.trim()) ? 1 : 0;
                }

                @Override
                public boolean needsAnswer() {
                    return true;
                }
            },
            "length_penalty", arg -> {
                int n = arg == null ? 100 : positiveInt(arg, "length_penalty");
                return (prompt, response, answer) -> -Math.max(0, response.length() - n) / (double) n;
            },
            "char_fraction", arg -> {
                if (arg == null || arg.isEmpty()) {
                    throw new LoroException("reward function 'char_fraction' needs the characters to reward, e.g. char_fraction:a");
                }
                return (prompt, response, answer) -> {
                    if (response.isEmpty()) {
                        return 0;
                    }
                    long hits = response.chars().filter(x -> arg.indexOf(x) >= 0).count();
                    return hits / (double) response.length();
                };
            }));

    /** Adds (or replaces) a reward function under {@code name}. */
    static void register(String name, Function<String, RewardFunction> factory) {
        REGISTRY.put(name, factory);
    }

    /** {@code name} or {@code name:argument} → the function; unknown names are a one-line LoroException. */
    static RewardFunction of(String spec) {
        return of(spec, "ppo.reward_functions");
    }

    /** As {@link #of(String)}, naming the recipe key {@code key} in the error for an unknown name. */
    static RewardFunction of(String spec, String key) {
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        String arg = colon < 0 ? null : spec.substring(colon + 1);
        Function<String, RewardFunction> f = REGISTRY.get(name);
        if (f == null) {
            throw new LoroException("unknown reward function '" + name + "' in " + key + "; allowed: "
                    + String.join(", ", new TreeMap<>(REGISTRY).keySet()));
        }
        return f.apply(arg);
    }

    private static int positiveInt(String s, String name) {
        try {
            int n = Integer.parseInt(s.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new LoroException("reward function '" + name + "' needs a positive whole number after ':', got '" + s + "'");
    }
}
