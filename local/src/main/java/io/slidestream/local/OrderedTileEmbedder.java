package io.slidestream.local;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.TileInference;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Embeds a numbered run of tiles in one process: reader threads load and preprocess tiles (slide
 * regions or image files) while the {@link TileInferenceEngine}'s batching thread runs the model,
 * so reading overlaps inference. Results reach the sink in tile order on the calling thread.
 *
 * <p>Memory is bounded by the window: at most {@code window} tiles are loaded or queued at once
 * (each a CHW tensor), and the next tile is only started when the oldest one has been written. The
 * engine's queue must hold the whole window. The first failing tile (reading or inference) stops
 * the run with its {@link SlideStreamException}; tiles still in flight are cancelled.
 */
public final class OrderedTileEmbedder {

    /** Loads tile {@code index} and returns its preprocessed CHW tensor (a new array). */
    @FunctionalInterface
    public interface TileLoader {
        float[] load(int index) throws Exception;
    }

    /** Takes the result of tile {@code index}; called in index order on the caller's thread. */
    @FunctionalInterface
    public interface ResultSink {
        void accept(int index, TileInference result) throws IOException;
    }

    private final TileInferenceEngine engine;
    private final int readers;
    private final int window;

    public OrderedTileEmbedder(TileInferenceEngine engine, int readers, int window) {
        if (readers < 1 || window < 1) {
            throw new IllegalArgumentException("readers and window must be positive");
        }
        this.engine = engine;
        this.readers = readers;
        this.window = window;
    }

    /** The window for a batch size and reader count: two batches queued plus two per reader. */
    public static int windowFor(int batchSize, int readers) {
        return 2 * batchSize + 2 * readers;
    }

    /** Embeds tiles {@code 0 .. count-1} and hands each result to {@code sink}, in order. */
    public void run(int count, TileLoader loader, ResultSink sink) throws IOException {
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool =
                Executors.newFixedThreadPool(
                        readers,
                        r -> {
                            Thread t =
                                    new Thread(r, "tile-reader-" + threadNumber.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        ArrayDeque<CompletableFuture<TileInference>> inFlight = new ArrayDeque<>(window);
        try {
            int next = 0;
            for (int written = 0; written < count; written++) {
                while (next < count && inFlight.size() < window) {
                    int index = next++;
                    inFlight.add(
                            CompletableFuture.supplyAsync(() -> load(loader, index), pool)
                                    .thenCompose(engine::submit));
                }
                sink.accept(written, await(inFlight.poll()));
            }
        } finally {
            inFlight.forEach(f -> f.cancel(false));
            pool.shutdownNow();
            try {
                pool.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static float[] load(TileLoader loader, int index) {
        try {
            return loader.load(index);
        } catch (SlideStreamException e) {
            throw e;
        } catch (Exception e) {
            throw new SlideStreamException(
                    ErrorCode.INTERNAL, "loading tile " + index + " failed: " + e, e);
        }
    }

    private static TileInference await(CompletableFuture<TileInference> future) {
        try {
            return future.join();
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof SlideStreamException) {
                throw (SlideStreamException) cause;
            }
            throw new SlideStreamException(
                    ErrorCode.INFERENCE_FAILED, "embedding a tile failed: " + cause, cause);
        }
    }
}
