package io.slidestream.aggregate;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Instant;
import java.util.function.IntFunction;

/**
 * Deterministic {@link TileEmbedding}s for slide-window tests: tile {@code i} of a slide sits at
 * ({@code 256 * i}, {@code 512}) and, unless a test gives its own, has the embedding {@code [i, i +
 * 0.5, i + 1, ...]} computed from its index. Shared with {@code jobs} through the test-jar.
 */
public final class TileEmbeddings {
    public static final Instant SCANNED_AT = Instant.parse("2026-03-02T08:00:00Z");
    public static final Instant ONE_MINUTE_LATER = SCANNED_AT.plusSeconds(60);
    public static final String MODEL_ID = "gpfm-tiny@sha256:0123abcd";
    public static final int LEVEL = 0;
    public static final int TILE_PX = 256;
    public static final double MPP = 0.5;

    private TileEmbeddings() {}

    /** Tile {@code index} of a {@code count}-tile slide with a D-long embedding from its index. */
    public static TileEmbedding tile(String slideId, int index, int count, int dimension) {
        return tile(slideId, index, count, indexEmbedding(index, dimension));
    }

    /** Tile {@code index} of a {@code count}-tile slide with the given embedding, no tile head. */
    public static TileEmbedding tile(String slideId, int index, int count, float[] embedding) {
        TileEmbedding t = new TileEmbedding();
        t.slideId = slideId;
        t.uri = "file:///slides/" + slideId + ".svs";
        t.x = 256L * index;
        t.y = 512L;
        t.level = LEVEL;
        t.tilePx = TILE_PX;
        t.mpp = MPP;
        t.tissue = 0.9f;
        t.tileIndex = index;
        t.tileCount = count;
        t.scannedAtMillis = SCANNED_AT.toEpochMilli();
        t.modelId = MODEL_ID;
        t.embedding = embedding;
        return t;
    }

    /**
     * A failed-tile marker for tile {@code index} of a {@code count}-tile slide: the coordinates
     * and slide fields of {@link #tile}, no embedding, no model.
     */
    public static TileEmbedding failedTile(
            String slideId, int index, int count, ErrorCode failure) {
        TileEmbedding t = tile(slideId, index, count, null);
        t.modelId = null;
        t.failure = failure;
        return t;
    }

    /** The same tile with tile-head probabilities. */
    public static TileEmbedding withHead(TileEmbedding tile, float... probabilities) {
        tile.headProbabilities = probabilities;
        return tile;
    }

    /** {@code [index, index + 0.5, index + 1, ...]}. */
    public static float[] indexEmbedding(int index, int dimension) {
        return embedding(dimension, d -> index + 0.5f * d);
    }

    public static float[] embedding(int dimension, IntFunction<Float> value) {
        float[] e = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            e[d] = value.apply(d);
        }
        return e;
    }
}
