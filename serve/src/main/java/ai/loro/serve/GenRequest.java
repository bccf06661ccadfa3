package ai.loro.serve;

import ai.loro.lora.LoraAdapter;
import java.util.List;
import java.util.Set;

/**
 * One validated generation request: a prompt and how to continue it, for {@code n} choices.
 *
 * @param adapter null = the base model
 * @param stopIds tokens that end a choice (finish_reason "stop"); empty with ignore_eos
 * @param logprobs log-probabilities of each chosen token are reported
 * @param topLogprobs how many alternatives per position (0..20)
 * @param seed choice i samples from {@code SplittableRandom(seed + i · 0x9E3779B97F4A7C15)}, as {@code loro generate}'s
 *     batch row i does
 */
record GenRequest(String model, LoraAdapter adapter, long[] prompt, int maxTokens, double temperature, int topK,
                  double topP, long seed, List<String> stop, Set<Long> stopIds, int n, boolean logprobs, int topLogprobs) {}
