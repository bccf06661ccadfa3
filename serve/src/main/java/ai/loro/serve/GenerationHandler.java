package ai.loro.serve;

import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Answers {@code /v1/chat/completions} and {@code /v1/completions}: submits each prompt's choices to the
 * scheduler and writes either one JSON response or server-sent events ({@code data: {chunk}} ... {@code data: [DONE]}).
 */
final class GenerationHandler {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Scheduler scheduler;
    private final LoroTokenizer tokenizer;

    GenerationHandler(Scheduler scheduler, LoroTokenizer tokenizer) {
        this.scheduler = scheduler;
        this.tokenizer = tokenizer;
    }

    void handle(Context ctx, RequestParser.Parsed p) throws IOException {
        tokenIds.set(p.tokenIds());
        BlockingQueue<Sequence.Event> sink = new LinkedBlockingQueue<>();
        List<Sequence> all = new ArrayList<>();
        int choices = 0;
        try {
            for (GenRequest r : p.prompts()) {
                all.addAll(scheduler.submit(r, choices, sink));
                choices += r.n();
            }
        } catch (ApiError e) {
            all.forEach(Sequence::cancel);
            throw e;
        }
        String id = (p.chat() ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        int promptTokens = p.prompts().stream().mapToInt(r -> r.prompt().length).sum();
        if (p.stream()) {
            stream(ctx, p, sink, all, choices, id, created, promptTokens);
        } else {
            whole(ctx, p, sink, all, choices, id, created, promptTokens);
        }
    }

    private void whole(Context ctx, RequestParser.Parsed p, BlockingQueue<Sequence.Event> sink, List<Sequence> all,
                       int choices, String id, long created, int promptTokens) {
        StringBuilder[] text = new StringBuilder[choices];
        List<List<Sequence.Event>> tokens = new ArrayList<>();
        String[] finish = new String[choices];
        int[] completion = new int[choices];
        for (int i = 0; i < choices; i++) {
            text[i] = new StringBuilder();
            tokens.add(new ArrayList<>());
        }
        int open = choices;
        while (open > 0) {
            Sequence.Event e = take(sink, all);
            if (e.error() != null) {
                all.forEach(Sequence::cancel);
                throw e.error();
            }
            text[e.choice()].append(e.text());
            if (e.logprob() != null) {
                tokens.get(e.choice()).add(e);
            }
            if (e.finishReason() != null) {
                finish[e.choice()] = e.finishReason();
                completion[e.choice()] = e.completionTokens();
                open--;
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("id", id);
        out.put("object", p.chat() ? "chat.completion" : "text_completion");
        out.put("created", created);
        out.put("model", p.model());
        ArrayNode cs = out.putArray("choices");
        int completionTokens = 0;
        for (int i = 0; i < choices; i++) {
            ObjectNode c = cs.addObject();
            c.put("index", i);
            if (p.chat()) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", text[i].toString());
                c.set("logprobs", tokens.get(i).isEmpty() && !wantsLogprobs(p) ? null : chatLogprobs(tokens.get(i)));
            } else {
                c.put("text", text[i].toString());
                c.set("logprobs", !wantsLogprobs(p) ? null : completionLogprobs(tokens.get(i), 0));
            }
            c.put("finish_reason", finish[i]);
            completionTokens += completion[i];
        }
        out.set("usage", usage(promptTokens, completionTokens));
        ctx.contentType("application/json").result(out.toString());
    }

    private void stream(Context ctx, RequestParser.Parsed p, BlockingQueue<Sequence.Event> sink, List<Sequence> all,
                        int choices, String id, long created, int promptTokens) throws IOException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        OutputStream os = ctx.res().getOutputStream();
        boolean[] started = new boolean[choices];
        int[] textOffset = new int[choices];
        int open = choices;
        int completionTokens = 0;
        try {
            if (p.chat()) { // the first chunk of each choice carries the role
                for (int i = 0; i < choices; i++) {
                    ObjectNode d = JSON.createObjectNode();
                    d.put("role", "assistant");
                    d.put("content", "");
                    send(os, chunk(p, id, created, i, d, null, null));
                    started[i] = true;
                }
            }
            while (open > 0) {
                Sequence.Event e = take(sink, all);
                if (e.error() != null) {
                    ObjectNode err = JSON.createObjectNode();
                    err.set("error", OpenAiServer.errorBody(e.error()).get("error"));
                    send(os, err);
                    break;
                }
                boolean last = e.finishReason() != null;
                if (e.text().isEmpty() && e.logprob() == null && !last) {
                    continue;
                }
                Object lp = null;
                if (e.logprob() != null) {
                    lp = p.chat() ? chatLogprobs(List.of(e)) : completionLogprobs(List.of(e), textOffset[e.choice()]);
                }
                textOffset[e.choice()] += e.text().length();
                if (p.chat()) {
                    ObjectNode d = JSON.createObjectNode();
                    if (!e.text().isEmpty()) {
                        d.put("content", e.text());
                    }
                    send(os, chunk(p, id, created, e.choice(), d, e.finishReason(), lp));
                } else {
                    send(os, chunk(p, id, created, e.choice(), e.text(), e.finishReason(), lp));
                }
                if (last) {
                    completionTokens += e.completionTokens();
                    open--;
                }
            }
            if (p.includeUsage()) {
                ObjectNode u = JSON.createObjectNode();
                u.put("id", id);
                u.put("object", p.chat() ? "chat.completion.chunk" : "text_completion");
                u.put("created", created);
                u.put("model", p.model());
                u.putArray("choices");
                u.set("usage", usage(promptTokens, completionTokens));
                send(os, u);
            }
            os.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            os.flush();
        } catch (IOException gone) { // the client went away: free its rows
            all.forEach(Sequence::cancel);
        }
    }

    private ObjectNode chunk(RequestParser.Parsed p, String id, long created, int index, Object delta, String finish,
                             Object logprobs) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("object", p.chat() ? "chat.completion.chunk" : "text_completion");
        o.put("created", created);
        o.put("model", p.model());
        ArrayNode cs = o.putArray("choices");
        ObjectNode c = cs.addObject();
        c.put("index", index);
        if (delta instanceof ObjectNode d) {
            c.set("delta", d);
        } else {
            c.put("text", (String) delta);
        }
        c.set("logprobs", logprobs == null ? null : (ObjectNode) logprobs);
        c.put("finish_reason", finish);
        if (p.includeUsage()) {
            o.putNull("usage");
        }
        return o;
    }

    private static void send(OutputStream os, ObjectNode o) throws IOException {
        os.write(("data: " + o + "\n\n").getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    private static boolean wantsLogprobs(RequestParser.Parsed p) {
        return p.prompts().get(0).logprobs();
    }

    private Sequence.Event take(BlockingQueue<Sequence.Event> sink, List<Sequence> all) {
        try {
            Sequence.Event e;
            while ((e = sink.poll(30, TimeUnit.SECONDS)) == null) {
                if (!scheduler.alive()) {
                    throw new ApiError(500, "InternalServerError", null, "the scheduler stopped");
                }
            }
            return e;
        } catch (InterruptedException ie) {
            all.forEach(Sequence::cancel);
            Thread.currentThread().interrupt();
            throw new ApiError(503, "ServiceUnavailableError", null, "interrupted");
        }
    }

    private ObjectNode usage(int prompt, int completion) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    /** A token as text; with vLLM's return_tokens_as_token_ids, "token_id:N". */
    private String tokenText(long id) {
        return tokenIds.get() ? "token_id:" + id : tokenizer.decode(new long[] {id}, false);
    }

    private final ThreadLocal<Boolean> tokenIds = ThreadLocal.withInitial(() -> false);

    private ArrayNode bytes(String s) {
        ArrayNode a = JSON.createArrayNode();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            a.add(b & 0xff);
        }
        return a;
    }

    /** {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}. */
    private ObjectNode chatLogprobs(List<Sequence.Event> events) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (Sequence.Event e : events) {
            Sequence.TokenLogprob t = e.logprob();
            ObjectNode c = content.addObject();
            String s = tokenText(t.token());
            c.put("token", s);
            c.put("logprob", t.logprob());
            c.set("bytes", bytes(s));
            ArrayNode top = c.putArray("top_logprobs");
            for (int i = 0; i < t.topIds().length; i++) {
                ObjectNode a = top.addObject();
                String ts = tokenText(t.topIds()[i]);
                a.put("token", ts);
                a.put("logprob", t.topLogprobs()[i]);
                a.set("bytes", bytes(ts));
            }
        }
        return o;
    }

    /** The legacy completions form: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}. */
    private ObjectNode completionLogprobs(List<Sequence.Event> events, int offset) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode toks = o.putArray("tokens");
        ArrayNode lps = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offs = o.putArray("text_offset");
        int at = offset;
        for (Sequence.Event e : events) {
            Sequence.TokenLogprob t = e.logprob();
            String s = tokenText(t.token());
            toks.add(s);
            lps.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (int i = 0; i < t.topIds().length; i++) {
                top.put(tokenText(t.topIds()[i]), t.topLogprobs()[i]);
            }
            offs.add(at);
            at += e.text().length();
        }
        return o;
    }
}
