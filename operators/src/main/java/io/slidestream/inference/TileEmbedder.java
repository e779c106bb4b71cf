package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.runtime.JobClassLoaderCleanup;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideHandleCache;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads, preprocesses and embeds tiles: for each {@link TileTask} it reads the tile's region from
 * its slide on a reader thread, turns it into the model's input tensor ({@link TilePreprocessor},
 * sized from the engine), hands the tensor to the TaskManager's shared {@link TileInferenceEngine}
 * and completes the {@link ResultFuture} from the engine's batching thread, so the task thread
 * neither reads nor waits for the model. Use {@link #embed} to put it in a stream ({@code
 * AsyncDataStream.unorderedWait}, timeout and capacity from {@link InferenceConfig}).
 *
 * <p><b>Why the async stage takes tasks, not tensors.</b> Flink's async operator checkpoints its
 * in-flight <i>inputs</i>. A tile task is ~200 bytes; a 3x224x224 tensor is 600 KB, so tensors in
 * flight made every checkpoint up to {@code inference.capacity} x 600 KB per subtask. Reading
 * inside the async function also moves reading off the task thread and runs it on {@code
 * inference.reader-threads} threads, overlapping it with inference.
 *
 * <p><b>Reader pool: per subtask.</b> Each subtask owns {@code inference.reader-threads} daemon
 * threads and a {@link SlideHandleCache}. At most {@code inference.capacity} tasks of the subtask
 * are in flight, which bounds the pool's queue; the pool lives and dies with the subtask (no
 * cross-job registry, no class-loader leak), and reading scales with the slots like the rest of the
 * job. The engine, which holds the model, stays shared per TaskManager.
 *
 * <p>Output: one {@link TileEmbeddingResult} per input task, always. A tile whose slide fails to
 * read becomes a {@linkplain TileEmbeddingResult#readFailure read failure} with the {@link
 * SlideStreamException}'s code (for example {@code CORRUPT_SLIDE}; {@code INTERNAL} for anything
 * else); the subtask remembers the scan (slide id and {@code scanned_at}, bounded; a later scan of
 * the same slide is read afresh) and answers its further failed tiles as {@linkplain
 * TileEmbeddingResult#skipped skipped} failures, so {@link TileEmbeddingRouter} sends one
 * dead-letter record per slide and subtask and a failed-tile marker per tile. Which tiles of a
 * partly broken slide are embedded does not depend on timing: every tile is read, each on its own
 * outcome, unless the slide itself cannot be opened any more (gone, replaced, refused), or {@value
 * #SKIP_AFTER_TILE_FAILURES} of its tiles failed in this subtask (a slide broken throughout, where
 * every further read would cost a slide open for nothing): then its remaining tiles are answered at
 * once without reading, and the slide's window closes. Since OpenSlide's error state is sticky per
 * handle, a read that fails on the shared handle drops it and is tried once more on a handle of its
 * own, so a good tile read at the same moment as a broken one still succeeds. A tile that the model
 * failed on ({@code INFERENCE_FAILED}), whose tensor is malformed ({@code INVALID_REQUEST}) or that
 * did not finish within {@code inference.timeout} ({@code TIMEOUT}) becomes a failure result too;
 * none fails the job. {@link #timeout} is therefore implemented on purpose: it emits the TIMEOUT
 * result and cancels the tile's queued read and inference, so no thread spends time on a tile
 * nobody waits for.
 *
 * <p>State: none of its own in Flink state; the async operator checkpoints the in-flight tasks and
 * re-runs them after a restore. The engine lease is taken in {@link #open} and given back in {@link
 * #close}, with the reader pool and the slide handles.
 */
public class TileEmbedder extends RichAsyncFunction<TileTask, TileEmbeddingResult> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TileEmbedder.class);

    /** Stable uid of the embed operator; changing it breaks savepoint compatibility. */
    public static final String UID = "embed-tiles";

    public static final String NAME = "Read + embed tiles (ONNX Runtime)";

    /** Open slide handles per subtask: enough for the slides in flight. */
    static final int MAX_OPEN_SLIDES = 4;

    private static final int MAX_REMEMBERED_FAILURES = 1024;

    /** Failed tiles of one scan in a subtask after which its remaining tiles are not read. */
    static final int SKIP_AFTER_TILE_FAILURES = 64;

    /** How a subtask gets its engine: the shared registry in production. */
    @FunctionalInterface
    interface EngineOpener extends Serializable {
        SharedInferenceEngines.Lease open(InferenceConfig config);
    }

    private final InferenceConfig config;
    private final List<String> allowedRoots;
    private final SlideReader slideReader;
    private final boolean jpegHalfScale;
    private final EngineOpener opener;

    private transient SharedInferenceEngines.Lease lease;
    private transient TileInferenceEngine engine;
    private transient TilePreprocessor preprocessor;
    private transient SlideOpener slideOpener;
    private transient SlideHandleCache slides;
    private transient ExecutorService readers;
    private transient ThreadLocal<int[]> rgbBuffers;

    /**
     * Tensors to preprocess into, reused: a tensor goes back once its inference has completed (the
     * engine copied it into its batch), so no tile allocates its 600 KB tensor. At most
     * inference.capacity tensors are in flight per subtask, which bounds the pool. Float16 tensors
     * when the model takes float16: the reader threads convert, not the batch thread.
     */
    private transient ArrayBlockingQueue<TileTensor> tensors;

    /** Slide id to the error code of its failed read; bounded, least recently used out. */
    private transient Map<String, FailedScan> failedSlides;

    /** In-flight tiles by identity: timeout() gets the very task object asyncInvoke got. */
    private transient Map<TileTask, InFlight> pending;

    private transient Counter read;
    private transient Counter embedded;
    private transient Counter failed;
    private transient Counter timedOut;

    /**
     * @param config the model, batching, timeout, capacity and reader threads
     * @param allowedRoots folders slides may be opened from; empty allows any path
     * @param slideReader how tile regions are read ({@code slides.reader})
     * @param jpegHalfScale decode JPEG tiles at 1/2 scale where a tile is at least twice the
     *     model's input ({@code slides.jpeg-half-scale}; not pixel-identical)
     */
    public TileEmbedder(
            InferenceConfig config,
            List<String> allowedRoots,
            SlideReader slideReader,
            boolean jpegHalfScale) {
        this(config, allowedRoots, slideReader, jpegHalfScale, SharedInferenceEngines::acquire);
    }

    TileEmbedder(InferenceConfig config, List<String> allowedRoots, EngineOpener opener) {
        this(config, allowedRoots, SlideReader.AUTO, false, opener);
    }

    TileEmbedder(
            InferenceConfig config,
            List<String> allowedRoots,
            SlideReader slideReader,
            boolean jpegHalfScale,
            EngineOpener opener) {
        this.config = Objects.requireNonNull(config, "config");
        this.allowedRoots = new ArrayList<>(allowedRoots);
        this.slideReader = Objects.requireNonNull(slideReader, "slideReader");
        this.jpegHalfScale = jpegHalfScale;
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    /**
     * {@code tasks} through the embedder: unordered (tiles of a slide are gathered by a keyed
     * window later, order does not matter), with {@code inference.timeout} and {@code
     * inference.capacity}. Set {@link #UID} and {@link #NAME} where the graph is wired.
     */
    public static SingleOutputStreamOperator<TileEmbeddingResult> embed(
            DataStream<TileTask> tasks,
            InferenceConfig config,
            List<String> allowedRoots,
            SlideReader slideReader,
            boolean jpegHalfScale) {
        return AsyncDataStream.unorderedWait(
                tasks,
                new TileEmbedder(config, allowedRoots, slideReader, jpegHalfScale),
                config.timeout().toMillis(),
                TimeUnit.MILLISECONDS,
                config.capacity());
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        JobClassLoaderCleanup.register(getRuntimeContext());
        slideOpener = SlideOpener.forRoots(allowedRoots, slideReader);
        slides = new SlideHandleCache(slideOpener, MAX_OPEN_SLIDES);
        lease = opener.open(config);
        engine = lease.engine();
        preprocessor = new TilePreprocessor((int) Math.round(Math.sqrt(engine.tileValues() / 3.0)));
        tensors = new ArrayBlockingQueue<>(config.capacity());
        rgbBuffers = new ThreadLocal<>();
        failedSlides =
                Collections.synchronizedMap(
                        new LinkedHashMap<>(16, 0.75f, true) {
                            private static final long serialVersionUID = 1L;

                            @Override
                            protected boolean removeEldestEntry(
                                    Map.Entry<String, FailedScan> eldest) {
                                return size() > MAX_REMEMBERED_FAILURES;
                            }
                        });
        pending = Collections.synchronizedMap(new IdentityHashMap<>());
        String threadName =
                "tile-reader-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() + "-";
        AtomicInteger threads = new AtomicInteger();
        // The queue's type is unbounded, its length is not: the async operator keeps at most
        // inference.capacity tasks of this subtask in flight, and timeout() cancels queued reads.
        readers =
                new ThreadPoolExecutor(
                        config.readerThreads(),
                        config.readerThreads(),
                        0L,
                        TimeUnit.MILLISECONDS,
                        new LinkedBlockingQueue<>(),
                        r -> {
                            Thread t = new Thread(r, threadName + threads.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        var metrics = getRuntimeContext().getMetricGroup();
        read = metrics.counter("tilesRead", new ThreadSafeSimpleCounter());
        embedded = metrics.counter("tilesEmbedded", new ThreadSafeSimpleCounter());
        failed = metrics.counter("tilesFailed", new ThreadSafeSimpleCounter());
        timedOut = metrics.counter("tilesTimedOut", new ThreadSafeSimpleCounter());
    }

    @Override
    public void asyncInvoke(TileTask task, ResultFuture<TileEmbeddingResult> result) {
        ErrorCode slideFailed = failedRead(task);
        if (slideFailed != null) {
            // Answered on the task thread: nothing to read.
            result.complete(
                    Collections.singletonList(TileEmbeddingResult.skipped(task, slideFailed)));
            return;
        }
        InFlight inFlight = new InFlight(result);
        pending.put(task, inFlight);
        inFlight.read = readers.submit(() -> readAndSubmit(task, inFlight));
    }

    /** On a reader thread: read, preprocess, hand the tensor to the engine. */
    private void readAndSubmit(TileTask task, InFlight inFlight) {
        if (inFlight.answered.get()) {
            return;
        }
        // A tile queued before an earlier tile of its slide failed is not read either.
        ErrorCode slideFailed = failedRead(task);
        if (slideFailed != null) {
            answer(task, inFlight, TileEmbeddingResult.skipped(task, slideFailed));
            return;
        }
        TileTensor chw = tensors.poll();
        if (chw == null) {
            int values = preprocessor.tensorLength();
            chw =
                    engine.takesHalves()
                            ? TileTensor.ofHalves(new short[values])
                            : TileTensor.of(new float[values]);
        }
        try {
            int[] rgb = rgbBuffer(task.readPx * task.readPx);
            inFlight.reading = true;
            int edge;
            try {
                edge = readTile(task, rgb);
            } finally {
                inFlight.reading = false;
            }
            if (chw.isHalf()) {
                preprocessor.preprocessHalf(rgb, edge, edge, chw.halves(), 0);
            } else {
                preprocessor.preprocess(rgb, edge, edge, chw.floats(), 0);
            }
        } catch (SlideOpenFailure e) {
            tensors.offer(chw);
            readFailed(task, inFlight, e.getCause(), true);
            return;
        } catch (RuntimeException e) {
            tensors.offer(chw);
            readFailed(task, inFlight, e, false);
            return;
        } catch (Error e) {
            // Not a bad tile (out of memory, a broken native library): fail over at once
            // instead of leaving the tile to time out minutes later.
            failTask(task, inFlight, e);
            return;
        }
        read.inc();
        if (inFlight.answered.get()) {
            return;
        }
        CompletableFuture<TileInference> future = engine.submit(chw);
        TileTensor tensor = chw;
        // Completed (embedded, failed or cancelled): the engine no longer reads the tensor.
        future.whenComplete((inference, error) -> tensors.offer(tensor));
        inFlight.inference = future;
        if (inFlight.answered.get()) {
            // timeout() ran between the check above and the assignment: it could not cancel it.
            future.cancel(false);
            return;
        }
        future.whenComplete(
                (inference, error) -> {
                    if (error instanceof CancellationException) {
                        // Cancelled by timeout() or close(), which already answered for the tile.
                        return;
                    }
                    if (error == null) {
                        TileEmbedding e =
                                TileEmbedding.of(task, engine.modelId(), inference.embedding);
                        e.headProbabilities = inference.headProbabilities;
                        if (answer(task, inFlight, TileEmbeddingResult.success(task, e))) {
                            embedded.inc();
                        }
                    } else {
                        SlideStreamException cause = asSlideStreamException(error);
                        if (cause.code().failsOver()) {
                            // Not the tile's failure: the engine goes (the restart loads the
                            // model afresh) and the task fails, so the job fails over and the
                            // tile is embedded again after the restart.
                            lease.discard();
                            failTask(task, inFlight, cause);
                            return;
                        }
                        if (answer(
                                task,
                                inFlight,
                                TileEmbeddingResult.failure(
                                        task, cause.code(), cause.getMessage()))) {
                            (cause.code() == ErrorCode.TIMEOUT ? timedOut : failed).inc();
                        }
                    }
                });
    }

    /** This thread's pixel buffer, at least {@code pixels} long. */
    private int[] rgbBuffer(int pixels) {
        int[] rgb = rgbBuffers.get();
        if (rgb == null || rgb.length < pixels) {
            rgb = new int[pixels];
            rgbBuffers.set(rgb);
        }
        return rgb;
    }

    /**
     * Reads the tile into {@code rgb} and returns the edge read: {@code readPx}, or half of it when
     * {@code slides.jpeg-half-scale} is on, the tile is at least twice the model's input and its
     * JPEG tiles can be decoded at 1/2 scale.
     */
    private int readTile(TileTask task, int[] rgb) {
        int half = task.readPx / 2;
        boolean halfScale =
                jpegHalfScale && task.readPx % 2 == 0 && half >= preprocessor.inputSize();
        // Opening failures (path policy, missing or unsupported file) are the slide's, not the
        // tile's: thrown from here as such.
        SlideHandleCache.Lease lease;
        try {
            lease = slides.acquire(task.uri);
        } catch (RuntimeException e) {
            throw new SlideOpenFailure(e);
        }
        try {
            if (halfScale
                    && lease.slide()
                            .readRegionAtHalfScale(rgb, task.x, task.y, task.level, half, half)) {
                return half;
            }
            lease.slide().readRegion(rgb, task.x, task.y, task.level, task.readPx, task.readPx);
            return task.readPx;
        } catch (RuntimeException shared) {
            // OpenSlide's error state is per handle and sticky: a broken tile read by another
            // thread at the same moment fails this read too, and every later one. Drop the handle
            // and read once more on a handle of this tile alone to learn the tile's own outcome.
            lease.invalidate();
        } finally {
            lease.close();
        }
        OpenSlide own;
        try {
            own = slideOpener.open(task.uri);
        } catch (RuntimeException e) {
            throw new SlideOpenFailure(e);
        }
        try {
            own.readRegion(rgb, task.x, task.y, task.level, task.readPx, task.readPx);
            return task.readPx;
        } finally {
            own.close();
        }
    }

    /** The slide of a tile could not be opened: a failure of the whole slide, not of the tile. */
    private static final class SlideOpenFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SlideOpenFailure(RuntimeException cause) {
            super(cause);
        }

        @Override
        public synchronized RuntimeException getCause() {
            return (RuntimeException) super.getCause();
        }
    }

    /**
     * Answers a tile that could not be read: the scan's first failure in this subtask is reported,
     * later ones are skipped-type failures; {@code opening} (the slide could not be opened) or the
     * {@value #SKIP_AFTER_TILE_FAILURES}th failed tile makes the scan's remaining tiles go unread.
     */
    private void readFailed(TileTask task, InFlight inFlight, RuntimeException e, boolean opening) {
        ErrorCode code =
                e instanceof SlideStreamException
                        ? ((SlideStreamException) e).code()
                        : ErrorCode.INTERNAL;
        String message =
                e instanceof SlideStreamException
                        ? e.getMessage()
                        : "unexpected failure while reading the tile: "
                                + e
                                + "; this is a bug in SlideStream, please report it with the log";
        // Only the scan's first failed tile in this subtask is reported; later failures of the
        // same scan are answered as skipped.
        FailedScan failure = new FailedScan(task.scannedAtMillis, code, 1, opening);
        boolean first = remember(task, failure) == failure;
        if (first) {
            LOG.warn(
                    "Slide {}: reading tile {} at ({}, {}) failed{}: {}",
                    task.slideId,
                    task.tileIndex,
                    task.x,
                    task.y,
                    opening
                            ? ", the slide cannot be opened: its other tiles are not read"
                            : " (its other tiles are still read; failures are reported once)",
                    e.getMessage());
        }
        if (answer(
                task,
                inFlight,
                first
                        ? TileEmbeddingResult.readFailure(task, code, message)
                        : TileEmbeddingResult.skipped(task, code))) {
            failed.inc();
        }
    }

    /**
     * The failed-read memory is per scan: per slide id, the {@code scanned_at} whose read failed,
     * the first failure's code, how many of its tiles failed, and whether its slide could not be
     * opened. A later scan of the same slide is read afresh.
     */
    private record FailedScan(long scannedAtMillis, ErrorCode code, int tiles, boolean opening) {
        FailedScan andAnother(FailedScan next) {
            return new FailedScan(scannedAtMillis, code, tiles + 1, opening || next.opening);
        }

        /** Whether the scan's remaining tiles go unread. */
        boolean givenUp() {
            return opening || tiles >= SKIP_AFTER_TILE_FAILURES;
        }
    }

    /**
     * Adds {@code failure} to what is remembered of {@code task}'s scan (a failure of another scan
     * of the slide is replaced); returns what is remembered now, {@code failure} itself when it is
     * the scan's first.
     */
    private FailedScan remember(TileTask task, FailedScan failure) {
        return failedSlides.merge(
                task.slideId,
                failure,
                (old, now) ->
                        old.scannedAtMillis == now.scannedAtMillis ? old.andAnother(now) : now);
    }

    /** The code of {@code task}'s scan if its remaining tiles go unread, else null. */
    private ErrorCode failedRead(TileTask task) {
        FailedScan failed = failedSlides.get(task.slideId);
        return failed != null && failed.scannedAtMillis == task.scannedAtMillis && failed.givenUp()
                ? failed.code
                : null;
    }

    /**
     * An infrastructure failure while handling {@code task}: completes its future exceptionally,
     * which fails the async operator and so the task; Flink restarts the job from its last
     * checkpoint and the tile is processed again. Never recorded as the tile's failure.
     */
    private void failTask(TileTask task, InFlight inFlight, Throwable cause) {
        if (!inFlight.answered.compareAndSet(false, true)) {
            return;
        }
        pending.remove(task);
        LOG.error(
                "Slide {} tile {}: infrastructure failure, failing the task so that the job fails"
                        + " over: {}",
                task.slideId,
                task.tileIndex,
                cause.toString());
        inFlight.result.completeExceptionally(cause);
    }

    /** Completes the tile's future once; false if timeout() or close() answered first. */
    private boolean answer(TileTask task, InFlight inFlight, TileEmbeddingResult r) {
        if (!inFlight.answered.compareAndSet(false, true)) {
            return false;
        }
        pending.remove(task);
        inFlight.result.complete(Collections.singletonList(r));
        return true;
    }

    @Override
    public void timeout(TileTask task, ResultFuture<TileEmbeddingResult> result) {
        InFlight inFlight = pending.remove(task);
        if (inFlight == null || !inFlight.answered.compareAndSet(false, true)) {
            // Answered at the same moment by the reader or the engine.
            return;
        }
        timedOut.inc();
        if (inFlight.reading) {
            // The read itself has not returned (a damaged file, storage that does not answer):
            // its thread stays in the native call, and the scan's other tiles go unread rather
            // than taking the other reader threads with them.
            remember(task, new FailedScan(task.scannedAtMillis, ErrorCode.TIMEOUT, 1, true));
            LOG.warn(
                    "Slide {}: reading tile {} at ({}, {}) did not return within"
                            + " inference.timeout={}; its other tiles are not read",
                    task.slideId,
                    task.tileIndex,
                    task.x,
                    task.y,
                    config.timeout());
        }
        result.complete(
                Collections.singletonList(
                        TileEmbeddingResult.failure(
                                task,
                                ErrorCode.TIMEOUT,
                                "tile not read and embedded within inference.timeout="
                                        + config.timeout()
                                        + " (model "
                                        + engine.modelId()
                                        + "): the model or the slide store is slower than the"
                                        + " input; raise inference.timeout or add devices")));
        inFlight.cancel();
    }

    private static SlideStreamException asSlideStreamException(Throwable error) {
        Throwable t =
                error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
        if (t instanceof SlideStreamException) {
            return (SlideStreamException) t;
        }
        return new SlideStreamException(
                ErrorCode.INFERENCE_FAILED, "inference failed for this tile: " + t, t);
    }

    @Override
    public void close() throws Exception {
        if (pending != null) {
            List<InFlight> inFlight;
            synchronized (pending) {
                inFlight = new ArrayList<>(pending.values());
                pending.clear();
            }
            inFlight.forEach(
                    f -> {
                        f.answered.set(true);
                        f.cancel();
                    });
        }
        if (readers != null) {
            readers.shutdownNow();
            // Reads in flight hold slide leases; let them end before the handles close.
            readers.awaitTermination(30, TimeUnit.SECONDS);
            readers = null;
        }
        if (slides != null) {
            slides.close();
        }
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }

    /** One tile between asyncInvoke and its answer. */
    private static final class InFlight {
        final ResultFuture<TileEmbeddingResult> result;

        /** Set once by whoever answers first: reader, engine, timeout() or close(). */
        final AtomicBoolean answered = new AtomicBoolean();

        volatile Future<?> read;
        volatile CompletableFuture<TileInference> inference;

        /** True while a reader thread is in the tile's read. */
        volatile boolean reading;

        InFlight(ResultFuture<TileEmbeddingResult> result) {
            this.result = result;
        }

        void cancel() {
            Future<?> r = read;
            if (r != null) {
                r.cancel(false);
            }
            CompletableFuture<TileInference> i = inference;
            if (i != null) {
                // The batcher drops cancelled tiles before they reach a batch.
                i.cancel(false);
            }
        }
    }
}
