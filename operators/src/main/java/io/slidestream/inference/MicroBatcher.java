package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching in front of one model session. Callers {@link #submit} single inputs and get a
 * future; one thread per batcher takes the first waiting input, gathers more until it has {@code
 * batchSize} or {@code maxWait} has passed since the first, runs the {@link BatchRunner} and
 * completes every caller's future from that thread.
 *
 * <p>Backpressure: the queue is bounded and {@link #submit} never blocks (an asynchronous Flink
 * operator must not stall its task thread). A full queue fails the returned future at once with
 * {@code INFERENCE_FAILED}; the real bound on in-flight tiles is the async operator's capacity, and
 * the shared engine reserves that much queue for every subtask at start ({@link
 * TileInferenceEngine#reserve}), so in a job the queue never rejects. Other callers (benchmark,
 * command line) bound their own in-flight count.
 *
 * <p>Timeouts: each future fails with {@code TIMEOUT} when it is not complete {@code timeout} after
 * submission; inputs whose future is already done (timed out or cancelled by the caller) are
 * dropped before they reach a batch. Failures: when a batch fails, its inputs are run again in two
 * halves, recursively, so one bad input fails alone with its cause ({@code INFERENCE_FAILED}) and
 * the others succeed. Before a single input is blamed, a known-good input is run: when that fails
 * too, the engine is broken and the input fails with {@code ENGINE_FAILED} instead, which callers
 * treat as an infrastructure failure. {@link #close} fails what is still queued.
 */
public final class MicroBatcher<R> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatcher.class);

    private final String name;
    private final BatchRunner<R> runner;
    private final int batchSize;
    private final long maxWaitNanos;
    private final Duration timeout;
    private final BlockingQueue<Request<R>> queue;
    private final Thread thread;
    private final ScheduledThreadPoolExecutor timer;
    private volatile boolean running = true;

    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong batchedInputs = new AtomicLong();
    private final AtomicLong failedRuns = new AtomicLong();

    public MicroBatcher(
            String name,
            BatchRunner<R> runner,
            int batchSize,
            Duration maxWait,
            int queueCapacity,
            Duration timeout) {
        if (batchSize < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("batchSize and queueCapacity must be positive");
        }
        this.name = name;
        this.runner = runner;
        this.batchSize = batchSize;
        this.maxWaitNanos = maxWait.toNanos();
        this.timeout = timeout;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, name + "-timeouts"));
        // Completed futures cancel their timeout task; keep the timer queue from holding them.
        timer.setRemoveOnCancelPolicy(true);
        this.thread = daemon(this::loop, name + "-batcher");
        thread.start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Queues one input; never blocks. The future completes on the batcher thread with the result,
     * or fails with a {@link SlideStreamException}: {@code TIMEOUT}, {@code INFERENCE_FAILED} (run
     * failed, queue full, batcher closed).
     */
    public CompletableFuture<R> submit(TileTensor input) {
        CompletableFuture<R> future = new CompletableFuture<>();
        if (!running) {
            future.completeExceptionally(closed());
            return future;
        }
        Request<R> request = new Request<>(input, future);
        if (!queue.offer(request)) {
            future.completeExceptionally(
                    new SlideStreamException(
                            ErrorCode.INFERENCE_FAILED,
                            name
                                    + ": the inference queue is full ("
                                    + queue.size()
                                    + " tiles waiting): more tiles are in flight than"
                                    + " inference.queue-capacity allows"));
            return future;
        }
        ScheduledFuture<?> expiry =
                timer.schedule(
                        () ->
                                future.completeExceptionally(
                                        new SlideStreamException(
                                                ErrorCode.TIMEOUT,
                                                name
                                                        + ": no result within inference.timeout="
                                                        + timeout
                                                        + " (queue "
                                                        + queue.size()
                                                        + "); the model is slower than the input:"
                                                        + " raise inference.timeout or add"
                                                        + " devices")),
                        timeout.toNanos(),
                        TimeUnit.NANOSECONDS);
        future.whenComplete((r, e) -> expiry.cancel(false));
        return future;
    }

    private void loop() {
        List<Request<R>> batch = new ArrayList<>(batchSize);
        while (running) {
            try {
                Request<R> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null || first.future.isDone()) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < batchSize) {
                    Request<R> next = queue.poll();
                    if (next == null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            break;
                        }
                        next = queue.poll(left, TimeUnit.NANOSECONDS);
                        if (next == null) {
                            break;
                        }
                    }
                    if (!next.future.isDone()) {
                        batch.add(next);
                    }
                }
                run(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                // Never let the thread die: every queued caller would then wait for its timeout.
                LOG.error("{}: batch of {} failed unexpectedly", name, batch.size(), t);
                for (Request<R> r : batch) {
                    r.future.completeExceptionally(failure(t));
                }
            } finally {
                batch.clear();
            }
        }
        SlideStreamException closed = closed();
        for (Request<R> r; (r = queue.poll()) != null; ) {
            r.future.completeExceptionally(closed);
        }
    }

    /** Runs a batch; on failure runs its halves, down to single inputs that fail alone. */
    private void run(List<Request<R>> batch) {
        List<TileTensor> inputs = new ArrayList<>(batch.size());
        for (Request<R> r : batch) {
            inputs.add(r.input);
        }
        List<R> results;
        try {
            results = runner.run(inputs);
            if (results == null || results.size() != batch.size()) {
                throw new IllegalStateException(
                        "the model returned "
                                + (results == null ? "nothing" : results.size() + " results")
                                + " for "
                                + batch.size()
                                + " inputs");
            }
        } catch (Exception e) {
            failedRuns.incrementAndGet();
            if (batch.size() == 1) {
                batch.get(0).future.completeExceptionally(blame(batch.get(0).input, e));
                return;
            }
            LOG.warn(
                    "{}: batch of {} failed ({}); retrying in halves to isolate the bad input",
                    name,
                    batch.size(),
                    e.toString());
            int half = batch.size() / 2;
            run(new ArrayList<>(batch.subList(0, half)));
            run(new ArrayList<>(batch.subList(half, batch.size())));
            return;
        }
        batches.incrementAndGet();
        batchedInputs.addAndGet(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).future.complete(results.get(i));
        }
    }

    /**
     * A single input failed: the input or the engine? Runs a known-good input of the same size (all
     * zeros: a valid, finite tensor) once. If that fails too the engine is broken ({@code
     * ENGINE_FAILED}, an infrastructure failure the caller must not record as the tile's);
     * otherwise the input is ({@code INFERENCE_FAILED}).
     */
    private SlideStreamException blame(TileTensor input, Exception inputFailure) {
        try {
            List<R> probe = runner.run(List.of(input.zeros()));
            if (probe != null && probe.size() == 1) {
                return failure(inputFailure);
            }
            throw new IllegalStateException("the model returned no result for the probe");
        } catch (Exception probeFailure) {
            failedRuns.incrementAndGet();
            LOG.error(
                    "{}: the engine failed on a known-good input too ({}); this is the engine's"
                            + " failure, not the tile's",
                    name,
                    probeFailure.toString());
            return new SlideStreamException(
                    ErrorCode.ENGINE_FAILED,
                    name
                            + ": the inference engine fails on every input (a known-good input"
                            + " failed with "
                            + probeFailure
                            + " after this tile failed with "
                            + inputFailure
                            + ")",
                    probeFailure);
        }
    }

    private SlideStreamException failure(Throwable t) {
        if (t instanceof SlideStreamException) {
            return (SlideStreamException) t;
        }
        return new SlideStreamException(
                ErrorCode.INFERENCE_FAILED, name + ": inference failed for this input: " + t, t);
    }

    private SlideStreamException closed() {
        return new SlideStreamException(
                ErrorCode.INFERENCE_FAILED, name + ": the inference engine was closed");
    }

    /** Batches run successfully so far. */
    public long batches() {
        return batches.get();
    }

    /** Inputs completed through successful batches so far. */
    public long batchedInputs() {
        return batchedInputs.get();
    }

    /** Batch runs that failed (each bisection step counts). */
    public long failedRuns() {
        return failedRuns.get();
    }

    /** False once {@link #close} has begun: no new input is taken into a batch. */
    public boolean accepting() {
        return running;
    }

    public int queued() {
        return queue.size();
    }

    public int batchSize() {
        return batchSize;
    }

    /** Stops the thread after its current batch and fails whatever is still queued. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(TimeUnit.MINUTES.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
        // A submit that raced with close may have queued after the thread's last drain.
        SlideStreamException closed = closed();
        for (Request<R> r; (r = queue.poll()) != null; ) {
            r.future.completeExceptionally(closed);
        }
    }

    private static final class Request<R> {
        final TileTensor input;
        final CompletableFuture<R> future;

        Request(TileTensor input, CompletableFuture<R> future) {
            this.input = input;
            this.future = future;
        }
    }
}
