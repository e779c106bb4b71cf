package io.slidestream.inference;

import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits the embed stage's output: embeddings go on as {@link TileEmbedding} (main output, to the
 * tile sinks and the slide window), tiles that failed to read or embed or timed out go to the
 * {@link #FAILED_TILES} side output with their error code, message and stage (for the dead letter),
 * so one bad tile never fails the job. A {@linkplain TileEmbeddingResult#skipped skipped} tile (its
 * slide had already failed to read) is not sent there again: one dead-letter record per failed
 * slide and subtask. Each failed tile also becomes a {@linkplain TileEmbedding#failed failed-tile
 * marker} on {@link #FAILED_TILE_MARKERS}, which the job sends to the slide window only, so the
 * window counts the tile as accounted for and closes the slide without waiting for its timeout;
 * markers never reach the tile sinks. Stateless.
 */
public class TileEmbeddingRouter extends ProcessFunction<TileEmbeddingResult, TileEmbedding> {
    private static final long serialVersionUID = 1L;

    public static final String UID = "route-tile-embeddings";
    public static final String NAME = "Route tile embeddings and failures";

    /** Tiles without an embedding ({@code errorCode} and {@code errorMessage} set). */
    public static final OutputTag<TileEmbeddingResult> FAILED_TILES =
            new OutputTag<>("failed-tiles") {};

    /** One failed-tile marker per tile on {@link #FAILED_TILES}, for the slide window. */
    public static final OutputTag<TileEmbedding> FAILED_TILE_MARKERS =
            new OutputTag<>("failed-tile-markers", TypeInformation.of(TileEmbedding.class));

    @Override
    public void processElement(
            TileEmbeddingResult result, Context ctx, Collector<TileEmbedding> out) {
        if (result.succeeded()) {
            out.collect(result.embedding);
        } else {
            if (!result.skipped) {
                ctx.output(FAILED_TILES, result);
            }
            ctx.output(FAILED_TILE_MARKERS, TileEmbedding.failed(result.task, result.errorCode));
        }
    }
}
