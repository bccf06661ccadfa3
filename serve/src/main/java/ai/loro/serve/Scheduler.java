package ai.loro.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.KvCache;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.NoGrad;
import ai.loro.lora.LoraAdapter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * Iteration-level scheduling (Orca; vLLM's continuous batching) on one thread that owns the model. Each
 * iteration: run queued control tasks (adapter load/unload), drop cancelled rows, prefill waiting requests into free
 * rows (each choice samples its first token from the prefill's logits), then one decode step for every running
 * batch; a choice leaves its row as soon as it is done.
 *
 * <p>Adapters: "mixed" keeps one batch for all rows with per-row adapter selection ({@link AdapterRouting});
 * "grouped" keeps one batch per adapter and decodes them one after another.
 */
final class Scheduler implements AutoCloseable {
    private final LlamaModel model;
    private final AdapterRouting routing;
    private final Function<long[], String> decoder;
    private final int maxBatch;
    private final int maxQueue;
    private final int maxModelLen;
    private final boolean grouped;
    private final long padId;
    private final ArrayDeque<List<Sequence>> waiting = new ArrayDeque<>(); // one entry per request (its n choices)
    private int waitingChoices;
    private final ConcurrentLinkedQueue<Runnable> control = new ConcurrentLinkedQueue<>();
    private final Map<LoraAdapter, SlotBatch> batches = new LinkedHashMap<>(); // key null = the base (or all, mixed)
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long steps;
    private volatile Runnable housekeeping = () -> {};

    Scheduler(LlamaModel model, Function<long[], String> decoder, int maxBatch, int maxQueue, int maxModelLen,
              boolean grouped) {
        this.model = model;
        this.routing = new AdapterRouting(model);
        this.decoder = decoder;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.maxModelLen = maxModelLen;
        this.grouped = grouped;
        this.padId = model.config().padTokenId() != null ? model.config().padTokenId() : 0L;
        this.thread = new Thread(this::loop, "loro-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a request's choices; 503 when the queue is full. */
    List<Sequence> submit(GenRequest r, int firstChoice, java.util.concurrent.BlockingQueue<Sequence.Event> sink) {
        List<Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < r.n(); i++) {
            seqs.add(new Sequence(r, i, firstChoice + i, sink, decoder, maxModelLen));
        }
        synchronized (lock) {
            if (waitingChoices + r.n() > maxQueue) {
                throw new ApiError(503, "ServiceUnavailableError", null, "The server is busy: " + waitingChoices
                        + " choices are waiting (--max-queue " + maxQueue + "); retry later.");
            }
            waiting.add(seqs);
            waitingChoices += r.n();
            lock.notifyAll();
        }
        return seqs;
    }

    /** Runs {@code task} on the scheduler thread between steps (the model is not in use then). */
    <T> T onSchedulerThread(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        control.add(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        synchronized (lock) {
            lock.notifyAll();
        }
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new RuntimeException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    /** Re-installs the routed deltas for the given loaded adapters (scheduler thread). */
    void installAdapters(Iterable<LoraAdapter> loaded) {
        routing.install(loaded);
    }

    /** Whether a running or waiting choice uses {@code adapter} (scheduler thread). */
    boolean inUse(LoraAdapter adapter) {
        for (SlotBatch b : batches.values()) {
            for (int r = 0; r < b.rows(); r++) {
                if (b.owner(r) instanceof Sequence s && s.request.adapter() == adapter) {
                    return true;
                }
            }
        }
        synchronized (lock) {
            for (List<Sequence> w : waiting) {
                if (w.get(0).request.adapter() == adapter) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Forgets an adapter about to be closed (scheduler thread). */
    void forget(LoraAdapter adapter) {
        routing.forget(adapter);
        SlotBatch b = batches.remove(adapter);
        if (b != null) {
            b.close();
        }
    }

    /** Runs on the scheduler thread once per iteration (e.g. closing adapters nobody uses any more). */
    void setHousekeeping(Runnable r) {
        housekeeping = r;
    }

    boolean alive() {
        return thread.isAlive();
    }

    long steps() {
        return steps;
    }

    /** Rows in use right now (for /health and tests). */
    int running() {
        int n = 0;
        for (SlotBatch b : batches.values()) {
            n += b.live();
        }
        return n;
    }

    private void loop() {
        try (NoGrad ng = new NoGrad()) {
            while (running) {
                try {
                    iterate();
                } catch (Throwable t) {
                    failAll(t);
                }
            }
        } finally {
            for (SlotBatch b : batches.values()) {
                b.close();
            }
        }
    }

    private void iterate() throws InterruptedException {
        Runnable task;
        while ((task = control.poll()) != null) {
            task.run();
        }
        housekeeping.run();
        dropCancelled();
        admit();
        boolean any = false;
        for (SlotBatch b : new ArrayList<>(batches.values())) {
            if (b.live() > 0) {
                decodeStep(b);
                any = true;
            }
        }
        if (!any) {
            synchronized (lock) {
                if (waiting.isEmpty() && control.isEmpty() && running) {
                    lock.wait(200);
                }
            }
        }
    }

    private int totalLive() {
        int n = 0;
        for (SlotBatch b : batches.values()) {
            n += b.live();
        }
        return n;
    }

    private void dropCancelled() {
        for (SlotBatch b : batches.values()) {
            for (int r = 0; r < b.rows(); r++) {
                if (b.owner(r) instanceof Sequence s && s.cancelled()) {
                    b.free(r);
                    s.fail(null);
                }
            }
        }
    }

    /** Prefills waiting requests while rows are free. */
    private void admit() {
        while (true) {
            List<Sequence> next;
            synchronized (lock) {
                next = waiting.peek();
                if (next == null || totalLive() + next.size() > maxBatch) {
                    return;
                }
                waiting.poll();
                waitingChoices -= next.size();
            }
            List<Sequence> alive = next.stream().filter(s -> !s.cancelled()).toList();
            if (alive.isEmpty()) {
                continue;
            }
            try {
                prefill(alive);
            } catch (RuntimeException e) {
                for (Sequence s : alive) {
                    s.fail(new ApiError(500, "InternalServerError", null, "generation failed: " + e.getMessage()));
                }
            }
        }
    }

    private void prefill(List<Sequence> choices) {
        GenRequest r = choices.get(0).request;
        int p = r.prompt().length;
        SlotBatch batch = grouped ? batches.get(r.adapter()) : batches.get(null);
        try (KvCache prefill = model.newCache(1, p)) {
            float[] last;
            try (NDScope scope = new NDScope(); NDManager sm = model.manager().newSubManager()) {
                scope.suppressNotUsedWarning();
                routing.select(new LoraAdapter[] {r.adapter()}, sm);
                NDArray ids = sm.create(r.prompt(), new Shape(1, p));
                NDArray m = sm.ones(new Shape(1, p), DataType.INT64);
                NDArray hidden = model.hiddenStates(ids, m, prefill); // (1, P, H)
                NDArray lastHidden = hidden.get(new NDIndex(":, -1:, :")); // (1, 1, H)
                last = model.logits(lastHidden).toType(DataType.FLOAT32, false).toFloatArray(); // (V)
            }
            for (Sequence s : choices) {
                if (s.accept(last)) {
                    continue;
                }
                if (batch == null) {
                    batch = new SlotBatch(model, maxBatch, maxModelLen);
                    batches.put(grouped ? r.adapter() : null, batch);
                }
                s.row = batch.insert(s, prefill, p);
            }
        }
    }

    private void decodeStep(SlotBatch b) {
        b.prepareStep();
        int rows = b.rows();
        long[] ids = new long[rows];
        LoraAdapter[] adapters = new LoraAdapter[rows];
        for (int r = 0; r < rows; r++) {
            if (b.owner(r) instanceof Sequence s) {
                ids[r] = s.lastToken();
                adapters[r] = s.request.adapter();
            } else {
                ids[r] = padId;
            }
        }
        int vocab = model.config().vocabSize();
        float[] logits;
        try (NDScope scope = new NDScope(); NDManager sm = model.manager().newSubManager()) {
            scope.suppressNotUsedWarning();
            routing.select(adapters, sm);
            long[] mask = b.stepMask();
            NDArray idArr = sm.create(ids, new Shape(rows, 1));
            NDArray m = sm.create(mask, new Shape(rows, mask.length / rows));
            NDArray hidden = model.hiddenStates(idArr, m, b.cache()); // (R, 1, H)
            logits = model.logits(hidden).toType(DataType.FLOAT32, false).toFloatArray(); // (R·V)
        }
        b.stepDone();
        steps++;
        for (int r = 0; r < rows; r++) {
            if (!(b.owner(r) instanceof Sequence s)) {
                continue;
            }
            if (s.cancelled()) {
                b.free(r);
                s.fail(null);
                continue;
            }
            if (s.accept(Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab))) {
                b.free(r);
            }
        }
    }

    private void failAll(Throwable t) {
        ApiError e = new ApiError(500, "InternalServerError", null, "generation failed: "
                + ai.loro.core.LoroException.oneLine(String.valueOf(t.getMessage())));
        for (SlotBatch b : batches.values()) {
            for (int r = 0; r < b.rows(); r++) {
                if (b.owner(r) instanceof Sequence s) {
                    s.fail(e);
                    b.free(r);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (lock) {
            lock.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            for (List<Sequence> w : waiting) {
                for (Sequence s : w) {
                    s.fail(new ApiError(503, "ServiceUnavailableError", null, "the server is shutting down"));
                }
            }
            waiting.clear();
        }
    }
}
