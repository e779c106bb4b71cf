package io.slidestream.schemas.records;

import java.util.Arrays;
import java.util.Objects;

/**
 * The model's output for one tile: the embedding (length D, read from the model) plus the optional
 * tile-head probabilities, with everything needed to make the vector comparable (model, level,
 * field of view, resolution). Written to Milvus {@code tiles} and Iceberg {@code tiles}, and
 * gathered per slide by the slide window.
 *
 * <p>A Flink POJO: public no-arg constructor, public mutable fields.
 */
public class TileEmbedding {
    public String slideId;

    /** Where the slide file is (copied from the tile task; carried into the slide result). */
    public String uri;

    public long x;
    public long y;
    public int level;
    public int tilePx;
    public double mpp;
    public float tissue;
    public int tileIndex;
    public int tileCount;
    public long scannedAtMillis;

    /** Identifies the model (name + checksum), recorded with every vector. */
    public String modelId;

    /** The embedding, length D. */
    public float[] embedding;

    /** Tile-head probabilities (one per class), or an empty array when no tile head runs. */
    public float[] headProbabilities = new float[0];

    public TileEmbedding() {}

    /** A TileEmbedding for {@code task}, with the coordinates and slide fields copied. */
    public static TileEmbedding of(TileTask task, String modelId, float[] embedding) {
        TileEmbedding e = new TileEmbedding();
        e.slideId = task.slideId;
        e.uri = task.uri;
        e.x = task.x;
        e.y = task.y;
        e.level = task.level;
        e.tilePx = task.tilePx;
        e.mpp = task.mpp;
        e.tissue = task.tissue;
        e.tileIndex = task.tileIndex;
        e.tileCount = task.tileCount;
        e.scannedAtMillis = task.scannedAtMillis;
        e.modelId = modelId;
        e.embedding = embedding;
        return e;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TileEmbedding)) {
            return false;
        }
        TileEmbedding t = (TileEmbedding) o;
        return x == t.x
                && y == t.y
                && level == t.level
                && tilePx == t.tilePx
                && Double.compare(mpp, t.mpp) == 0
                && Float.compare(tissue, t.tissue) == 0
                && tileIndex == t.tileIndex
                && tileCount == t.tileCount
                && scannedAtMillis == t.scannedAtMillis
                && Objects.equals(slideId, t.slideId)
                && Objects.equals(uri, t.uri)
                && Objects.equals(modelId, t.modelId)
                && Arrays.equals(embedding, t.embedding)
                && Arrays.equals(headProbabilities, t.headProbabilities);
    }

    @Override
    public int hashCode() {
        return Objects.hash(slideId, modelId, x, y, level);
    }

    @Override
    public String toString() {
        return "TileEmbedding{"
                + slideId
                + " #"
                + tileIndex
                + "/"
                + tileCount
                + " @"
                + x
                + ","
                + y
                + " L"
                + level
                + " D="
                + (embedding == null ? 0 : embedding.length)
                + "}";
    }
}
