package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.PreprocessedTile;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Embeds preprocessed tiles: hands each tile's CHW tensor to the TaskManager's shared {@link
 * TileInferenceEngine} and completes the {@link ResultFuture} from the engine's batching thread, so
 * the task thread never waits for the model. Use {@link #embed} to put it in a stream ({@code
 * AsyncDataStream.unorderedWait}, timeout and capacity from {@link InferenceConfig}).
 *
 * <p>Output: one {@link TileEmbeddingResult} per input tile, always. A tile that the model failed
 * on ({@code INFERENCE_FAILED}), that did not finish within {@code inference.timeout} ({@code
 * TIMEOUT}) or whose tensor is malformed ({@code INVALID_REQUEST}) becomes a failure result instead
 * of failing the job; {@link TileEmbeddingRouter} right after splits embeddings from failures (side
 * output). {@link #timeout} is therefore implemented on purpose: it emits the TIMEOUT result and
 * cancels the tile's queued work, so the engine does not spend time on a tile nobody waits for.
 *
 * <p>State: none in Flink state; in-flight tiles are re-sent by the source after a restore (async
 * operator semantics). The engine lease is taken in {@link #open} and given back in {@link #close};
 * the last subtask to leave closes the engine.
 */
public class TileEmbedder extends RichAsyncFunction<PreprocessedTile, TileEmbeddingResult> {
    private static final long serialVersionUID = 1L;

    /** Stable uid of the embed operator; changing it breaks savepoint compatibility. */
    public static final String UID = "embed-tiles";

    public static final String NAME = "Embed tiles (ONNX Runtime)";

    /** How a subtask gets its engine: the shared registry in production. */
    @FunctionalInterface
    interface EngineOpener extends Serializable {
        SharedInferenceEngines.Lease open(InferenceConfig config);
    }

    private final InferenceConfig config;
    private final EngineOpener opener;

    private transient SharedInferenceEngines.Lease lease;
    private transient TileInferenceEngine engine;
    private transient Map<PreprocessedTile, CompletableFuture<TileInference>> pending;
    private transient Counter embedded;
    private transient Counter failed;
    private transient Counter timedOut;

    public TileEmbedder(InferenceConfig config) {
        this(config, SharedInferenceEngines::acquire);
    }

    TileEmbedder(InferenceConfig config, EngineOpener opener) {
        this.config = Objects.requireNonNull(config, "config");
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    /**
     * {@code tiles} through the embedder: unordered (tiles of a slide are gathered by a keyed
     * window later, order does not matter), with {@code inference.timeout} and {@code
     * inference.capacity}. Set {@link #UID} and {@link #NAME} where the graph is wired.
     */
    public static SingleOutputStreamOperator<TileEmbeddingResult> embed(
            DataStream<PreprocessedTile> tiles, InferenceConfig config) {
        return AsyncDataStream.unorderedWait(
                tiles,
                new TileEmbedder(config),
                config.timeout().toMillis(),
                TimeUnit.MILLISECONDS,
                config.capacity());
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        lease = opener.open(config);
        engine = lease.engine();
        // Keyed by identity: PreprocessedTile has no equals, and timeout() gets the same object.
        pending = new ConcurrentHashMap<>();
        var metrics = getRuntimeContext().getMetricGroup();
        embedded = metrics.counter("tilesEmbedded", new ThreadSafeSimpleCounter());
        failed = metrics.counter("tilesFailed", new ThreadSafeSimpleCounter());
        timedOut = metrics.counter("tilesTimedOut", new ThreadSafeSimpleCounter());
    }

    @Override
    public void asyncInvoke(PreprocessedTile tile, ResultFuture<TileEmbeddingResult> result) {
        CompletableFuture<TileInference> future = engine.submit(tile.chw);
        pending.put(tile, future);
        future.whenComplete(
                (inference, error) -> {
                    pending.remove(tile);
                    if (error instanceof CancellationException) {
                        // Cancelled by timeout() or close(), which already answered for the tile.
                        return;
                    }
                    if (error == null) {
                        TileEmbedding e =
                                TileEmbedding.of(tile.task, engine.modelId(), inference.embedding);
                        e.headProbabilities = inference.headProbabilities;
                        embedded.inc();
                        result.complete(
                                Collections.singletonList(
                                        TileEmbeddingResult.success(tile.task, e)));
                    } else {
                        SlideStreamException cause = asSlideStreamException(error);
                        (cause.code() == ErrorCode.TIMEOUT ? timedOut : failed).inc();
                        result.complete(
                                Collections.singletonList(
                                        TileEmbeddingResult.failure(
                                                tile.task, cause.code(), cause.getMessage())));
                    }
                });
    }

    @Override
    public void timeout(PreprocessedTile tile, ResultFuture<TileEmbeddingResult> result) {
        timedOut.inc();
        result.complete(
                Collections.singletonList(
                        TileEmbeddingResult.failure(
                                tile.task,
                                ErrorCode.TIMEOUT,
                                "tile not embedded within inference.timeout="
                                        + config.timeout()
                                        + " (model "
                                        + engine.modelId()
                                        + "): the model is slower than the input; raise"
                                        + " inference.timeout or add devices")));
        CompletableFuture<TileInference> future = pending.remove(tile);
        if (future != null) {
            // The batcher drops cancelled tiles before they reach a batch.
            future.cancel(false);
        }
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
            pending.values().forEach(f -> f.cancel(false));
            pending.clear();
        }
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }
}
