package io.slidestream.inference;

import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits the embed stage's output: embeddings go on as {@link TileEmbedding} (main output), tiles
 * that failed or timed out go to the {@link #FAILED_TILES} side output with their error code and
 * message, so one bad tile never fails the job and the slide window can still count it. Stateless.
 */
public class TileEmbeddingRouter extends ProcessFunction<TileEmbeddingResult, TileEmbedding> {
    private static final long serialVersionUID = 1L;

    public static final String UID = "route-tile-embeddings";
    public static final String NAME = "Route tile embeddings and failures";

    /** Tiles without an embedding ({@code errorCode} and {@code errorMessage} set). */
    public static final OutputTag<TileEmbeddingResult> FAILED_TILES =
            new OutputTag<>("failed-tiles") {};

    @Override
    public void processElement(
            TileEmbeddingResult result, Context ctx, Collector<TileEmbedding> out) {
        if (result.succeeded()) {
            out.collect(result.embedding);
        } else {
            ctx.output(FAILED_TILES, result);
        }
    }
}
