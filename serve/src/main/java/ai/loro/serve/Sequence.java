package ai.loro.serve;

import ai.loro.core.generate.Sampler;
import ai.loro.core.generate.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.function.Function;

/**
 * One choice being generated: its tokens, its random stream, its text, and the events it hands to the HTTP
 * thread that waits for it. Touched by the scheduler thread only, except {@link #cancel()} and {@link #events}.
 */
final class Sequence implements SlotBatch.Rowed {
    /** What the HTTP side receives after each token: the text delta, the token's log-probabilities, the end. */
    record Event(int choice, String text, TokenLogprob logprob, String finishReason, int completionTokens, ApiError error) {}

    /** A chosen token's log-probability and the top alternatives (token id, log-probability), when asked for. */
    record TokenLogprob(long token, float logprob, long[] topIds, float[] topLogprobs) {}

    final GenRequest request;
    final int index;
    final SamplingParams params;
    final SplittableRandom rng;
    final TextStream text;
    final BlockingQueue<Event> events;
    final int choice; // index in the response's choices
    final List<Long> tokens = new ArrayList<>();
    private volatile boolean cancelled;
    private boolean finished;
    int row = -1;
    final int maxTotal; // prompt + completion tokens allowed

    Sequence(GenRequest request, int index, int choice, BlockingQueue<Event> events, Function<long[], String> decoder,
             int maxModelLen) {
        this.request = request;
        this.index = index;
        this.choice = choice;
        this.events = events;
        this.params = new SamplingParams(request.maxTokens(), request.temperature(), request.topK(), request.topP(),
                request.seed(), request.stop(), true);
        this.rng = new SplittableRandom(request.seed() + 0x9E3779B97F4A7C15L * index);
        this.text = new TextStream(decoder, request.stop());
        this.maxTotal = maxModelLen;
    }

    /** The client went away: the scheduler frees the row before the next step. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    boolean finished() {
        return finished;
    }

    long lastToken() {
        return tokens.get(tokens.size() - 1);
    }

    @Override
    public void movedTo(int newRow) {
        row = newRow;
    }

    /**
     * Picks the next token from its logits row, updates the text and tells the HTTP side.
     *
     * @return true when this choice is done
     */
    boolean accept(float[] logits) {
        int token = Sampler.sample(logits, params, rng);
        tokens.add((long) token);
        TokenLogprob lp = request.logprobs() ? Logprobs.of(logits, token, request.topLogprobs()) : null;
        String reason = null;
        long[] shown;
        if (request.stopIds().contains((long) token)) {
            reason = "stop";
            shown = toArray(tokens.size() - 1);
        } else {
            shown = toArray(tokens.size());
        }
        if (text.update(shown)) {
            reason = "stop";
        } else if (reason == null && (tokens.size() >= request.maxTokens()
                || request.prompt().length + tokens.size() >= maxTotal)) {
            reason = "length";
        }
        finished = reason != null;
        events.add(new Event(choice, text.delta(finished), lp, reason, tokens.size(), null));
        return finished;
    }

    /** Ends the choice with a server-side error (the HTTP side answers 500). */
    void fail(ApiError error) {
        if (!finished) {
            finished = true;
            events.add(new Event(choice, "", null, error == null ? "cancelled" : null, tokens.size(), error));
        }
    }

    private long[] toArray(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = tokens.get(i);
        }
        return a;
    }
}
