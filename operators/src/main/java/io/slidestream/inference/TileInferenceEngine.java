package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tile model stage of one TaskManager: the {@link EmbeddingEngine}, the optional {@link
 * TileHeadClassifier} and the {@link MicroBatcher} that feeds them, behind one {@link #submit}.
 * Each batch runs the embedding model and then the head on the batcher's thread. Shared by all
 * subtasks through {@link SharedInferenceEngines}; each subtask {@link #reserve reserves} its async
 * capacity in the queue, so the queue never rejects a tile of a running job.
 */
public class TileInferenceEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TileInferenceEngine.class);

    private final String modelId;
    private final int dimension;
    private final int tileValues;
    private final int queueCapacity;
    private final MicroBatcher<TileInference> batcher;
    private final List<AutoCloseable> resources;
    private final EmbeddingEngine embeddingEngine;
    private int reserved;

    TileInferenceEngine(
            String modelId,
            int dimension,
            int tileValues,
            BatchRunner<TileInference> runner,
            InferenceConfig config,
            List<AutoCloseable> resources) {
        this.modelId = modelId;
        this.dimension = dimension;
        this.tileValues = tileValues;
        this.queueCapacity = config.queueCapacity();
        this.resources = resources;
        this.embeddingEngine =
                resources.stream()
                        .filter(EmbeddingEngine.class::isInstance)
                        .map(EmbeddingEngine.class::cast)
                        .findFirst()
                        .orElse(null);
        this.batcher =
                new MicroBatcher<>(
                        "embed[" + modelId + "]",
                        runner,
                        config.batchSize(),
                        config.maxWait(),
                        config.queueCapacity(),
                        config.timeout());
    }

    /** Loads the embedding model (and the tile head when configured) and starts the batcher. */
    public static TileInferenceEngine open(InferenceConfig config) {
        EmbeddingEngine engine = EmbeddingEngine.open(config);
        TileHeadClassifier head = null;
        try {
            if (config.tileHeadPath().isPresent()) {
                head = TileHeadClassifier.open(config.tileHeadPath().get(), config);
                if (head.dimension() != engine.dimension()) {
                    throw new SlideStreamException(
                            ErrorCode.MODEL_INVALID,
                            "tile head "
                                    + config.tileHeadPath().get()
                                    + " takes D="
                                    + head.dimension()
                                    + " but the embedding model "
                                    + engine.modelId()
                                    + " gives D="
                                    + engine.dimension()
                                    + ": train or export the head for this model");
                }
            }
            List<AutoCloseable> resources = new ArrayList<>();
            resources.add(engine);
            if (head != null) {
                resources.add(head);
            }
            return new TileInferenceEngine(
                    engine.modelId(),
                    engine.dimension(),
                    engine.tileValues(),
                    runner(engine, head),
                    config,
                    resources);
        } catch (RuntimeException e) {
            if (head != null) {
                head.close();
            }
            engine.close();
            throw e;
        }
    }

    private static BatchRunner<TileInference> runner(
            EmbeddingEngine engine, TileHeadClassifier head) {
        return inputs -> {
            float[][] embeddings = engine.embedTensors(inputs);
            float[][] probabilities = head == null ? null : head.classify(embeddings);
            List<TileInference> out = new ArrayList<>(embeddings.length);
            for (int i = 0; i < embeddings.length; i++) {
                out.add(
                        new TileInference(
                                embeddings[i], probabilities == null ? null : probabilities[i]));
            }
            return out;
        };
    }

    /** Queues one float32 CHW tile; see {@link #submit(TileTensor)}. */
    public CompletableFuture<TileInference> submit(float[] chw) {
        return submit(TileTensor.of(chw));
    }

    /**
     * Queues one CHW tile; never blocks. A tensor of the wrong length fails at once with {@code
     * INVALID_REQUEST}; see {@link MicroBatcher#submit} for the other outcomes. For a model that
     * {@link #takesHalves() takes float16}, a float16 tensor spares the batch thread the
     * conversion.
     */
    public CompletableFuture<TileInference> submit(TileTensor chw) {
        int values = chw.length();
        if (values != tileValues) {
            return CompletableFuture.failedFuture(
                    new SlideStreamException(
                            ErrorCode.INVALID_REQUEST,
                            "tile tensor has "
                                    + (values == 0 ? "no values" : values + " values")
                                    + " but model "
                                    + modelId
                                    + " takes "
                                    + tileValues
                                    + " (CHW)"));
        }
        return batcher.submit(chw);
    }

    /**
     * Reserves {@code inFlight} places in the queue for one caller (an async subtask with that
     * capacity). Fails with {@code INVALID_REQUEST} when the callers together would exceed {@code
     * inference.queue-capacity}, so an overflow shows at start, not as lost tiles.
     */
    public synchronized void reserve(int inFlight) {
        if (reserved + inFlight > queueCapacity) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "inference.queue-capacity="
                            + queueCapacity
                            + " is too small: subtasks sharing the engine of "
                            + modelId
                            + " already reserve "
                            + reserved
                            + " in-flight tiles and one more asks for "
                            + inFlight
                            + " (inference.capacity); set inference.queue-capacity to at least"
                            + " (subtasks per TaskManager) x inference.capacity");
        }
        reserved += inFlight;
    }

    public synchronized void release(int inFlight) {
        reserved = Math.max(0, reserved - inFlight);
    }

    /** Queue places reserved by the current leases. */
    public synchronized int reserved() {
        return reserved;
    }

    public String modelId() {
        return modelId;
    }

    public int dimension() {
        return dimension;
    }

    public int tileValues() {
        return tileValues;
    }

    /** True when the model takes float16, so callers should submit float16 tensors. */
    public boolean takesHalves() {
        return embeddingEngine != null && embeddingEngine.takesHalves();
    }

    /** The embedding model behind the batcher (absent only for engines built on other runners). */
    public java.util.Optional<EmbeddingEngine> embeddingEngine() {
        return java.util.Optional.ofNullable(embeddingEngine);
    }

    public MicroBatcher<TileInference> batcher() {
        return batcher;
    }

    @Override
    public void close() {
        batcher.close();
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn("Closing {} failed", r, e);
            }
        }
    }
}
