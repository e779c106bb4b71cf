package io.slidestream.schemas.records;

import io.slidestream.schemas.ErrorCode;
import java.util.Arrays;
import java.util.Objects;

/**
 * The model's output for one tile: the embedding (length D, read from the model) plus the optional
 * tile-head probabilities, with everything needed to make the vector comparable (model, level,
 * field of view, resolution). Written to Milvus {@code tiles} and Iceberg {@code tiles}, and
 * gathered per slide by the slide window.
 *
 * <p><b>Failed-tile markers.</b> A tile that will never have an embedding - its slide could not be
 * read, or the model failed or timed out on it - travels to the slide window as a marker: the same
 * record with {@link #failure} set, {@link #embedding} null and {@link #modelId} possibly null, so
 * the window can count the tile as accounted for and close the slide without waiting for its
 * timeout. Markers are made only on the way into the window ({@link #failed(TileTask, ErrorCode)})
 * and never reach the tile sinks. One type for both, rather than a wrapper, keeps the window's
 * input, its state ({@code ListState<TileEmbedding>}) and its key selector unchanged.
 *
 * <p><b>Removals.</b> When a re-scan of a slide plans fewer (or other) tiles than the scan before
 * it, the planner issues a {@linkplain #removal removal} for each tile key the new plan lacks: the
 * tile sinks delete those keys, so every store holds the latest scan's tiles only. Removals never
 * reach the slide window.
 *
 * <p><b>Forget markers.</b> When a slide is erased on request, the planner sends a {@linkplain
 * #forgetting forget marker} the same way as removals: the latest-scan gate and the slide window
 * clear what they hold of the slide, and a later announcement of it is processed as new. Forget
 * markers never reach the tile sinks.
 *
 * <p>A Flink POJO: public no-arg constructor, public mutable fields. Savepoints: {@link #failure},
 * {@link #removed} and {@link #forgotten} were added after the first release; Flink's POJO
 * serializer restores state written without them (schema evolution adds them as null/false, i.e. a
 * real tile).
 */
public class TileEmbedding {
    public String slideId;

    /** Where the slide file is (copied from the tile task; carried into the slide result). */
    public String uri;

    public long x;
    public long y;

    /** The pyramid level the tile was read from. */
    public int level;

    /** Edge of the region read at {@code level}, in that level's pixels. */
    public int readPx;

    /** Edge of the region in level-0 pixels (see {@link TileTask#extentPx}). */
    public long extentPx;

    /** Edge of the tile at the target resolution, pixels (the model's input before resizing). */
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

    /**
     * Null for a real tile; for a failed-tile marker, why the tile has no embedding ({@code
     * CORRUPT_SLIDE} and the like from the read, {@code INFERENCE_FAILED}, {@code TIMEOUT}).
     */
    public ErrorCode failure;

    /**
     * True for a removal: a tile of an earlier scan of the slide that the latest scan's plan lacks.
     * It carries the key (slide, model, level, x, y) and the latest scan's {@link
     * #scannedAtMillis}; the tile sinks delete that key, the slide window never sees it.
     */
    public boolean removed;

    /**
     * True for a forget marker: the slide was erased on request ({@code slidestream forget}). It
     * carries only {@link #slideId}; the latest-scan gate and the slide window drop all they hold
     * of the slide, the tile sinks never see it.
     */
    public boolean forgotten;

    public TileEmbedding() {}

    /** The forget marker of {@code slideId}. */
    public static TileEmbedding forgetting(String slideId) {
        TileEmbedding e = new TileEmbedding();
        e.slideId = Objects.requireNonNull(slideId, "slideId");
        e.forgotten = true;
        return e;
    }

    /**
     * A removal of the tile at level-0 ({@code x}, {@code y}) of {@code level} that an earlier scan
     * of {@code slideId} wrote with {@code modelId}, issued by the scan of {@code scannedAtMillis}.
     */
    public static TileEmbedding removal(
            String slideId, String modelId, int level, long x, long y, long scannedAtMillis) {
        TileEmbedding e = new TileEmbedding();
        e.slideId = Objects.requireNonNull(slideId, "slideId");
        e.modelId = Objects.requireNonNull(modelId, "modelId");
        e.level = level;
        e.x = x;
        e.y = y;
        e.scannedAtMillis = scannedAtMillis;
        e.removed = true;
        return e;
    }

    /**
     * A failed-tile marker for {@code task}: the tile's coordinates and slide fields, no embedding,
     * and {@code failure} as the reason.
     */
    public static TileEmbedding failed(TileTask task, ErrorCode failure) {
        TileEmbedding e = of(task, null, null);
        e.failure = Objects.requireNonNull(failure, "failure");
        return e;
    }

    /** True for a failed-tile marker, false for a tile with an embedding. */
    public boolean failed() {
        return failure != null;
    }

    /** A TileEmbedding for {@code task}, with the coordinates and slide fields copied. */
    public static TileEmbedding of(TileTask task, String modelId, float[] embedding) {
        TileEmbedding e = new TileEmbedding();
        e.slideId = task.slideId;
        e.uri = task.uri;
        e.x = task.x;
        e.y = task.y;
        e.level = task.level;
        e.readPx = task.readPx;
        e.extentPx = task.extentPx;
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
                && readPx == t.readPx
                && extentPx == t.extentPx
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
                && Arrays.equals(headProbabilities, t.headProbabilities)
                && failure == t.failure
                && removed == t.removed
                && forgotten == t.forgotten;
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
                + (failure == null ? "" : " failed " + failure)
                + (removed ? " removed" : "")
                + (forgotten ? " forgotten" : "")
                + "}";
    }
}
