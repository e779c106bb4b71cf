package io.slidestream.inference;

import io.slidestream.preprocess.TilePreprocessor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Embeds one tile at a time outside the stream, for queries (the {@code search} command): the same
 * {@link TilePreprocessor} at the model's input size and the same {@link EmbeddingEngine} as the
 * job's read + embed chain, so a query vector is comparable with the stored ones. Not for bulk
 * work: every call is a batch of one.
 *
 * <p>Owns its engine; close it. A model that does not fit the embedding contract fails at {@link
 * #open} with {@code MODEL_INVALID}.
 */
public final class SingleTileEmbedder implements AutoCloseable {
    private final EmbeddingEngine engine;
    private final TilePreprocessor preprocessor;

    private SingleTileEmbedder(EmbeddingEngine engine) {
        this.engine = engine;
        // The job's TileEmbedder sizes its preprocessor from the engine the same way.
        this.preprocessor = new TilePreprocessor(engine.height());
    }

    /** Opens {@code model} on the CPU with a batch of one and no warm-up. */
    public static SingleTileEmbedder open(Path model) {
        return open(
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.BATCH_SIZE, 1)
                        .set(InferenceOptions.WARM_UP, false)
                        .build());
    }

    /** Opens the model of {@code config} with its provider and threads. */
    public static SingleTileEmbedder open(InferenceConfig config) {
        return new SingleTileEmbedder(EmbeddingEngine.open(config));
    }

    /** Embeds packed RGB ({@code 0x00RRGGBB}, row-major), as a slide read returns it. */
    public float[] embed(int[] rgb, int width, int height) {
        return engine.embed(List.of(preprocessor.preprocess(rgb, width, height)))[0];
    }

    /** Embeds an image of any type and size (a tile saved as PNG, say). */
    public float[] embed(BufferedImage image) {
        return engine.embed(List.of(preprocessor.preprocess(image)))[0];
    }

    /** The model id the job stores with every tile ({@code model_id} in Milvus and Iceberg). */
    public String modelId() {
        return engine.modelId();
    }

    public int dimension() {
        return engine.dimension();
    }

    @Override
    public void close() {
        engine.close();
    }
}
