package io.slidestream.aggregate;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.Objects;

/**
 * The distinct tiles of one slide as the slide window hands them over, put in plan order ({@code
 * tileIndex}) so that the result does not depend on arrival order, with the slide-level fields
 * checked to agree across tiles.
 *
 * <p>A copy of a tile seen before (same {@code tileIndex}) is ignored, as are tiles with an index
 * outside the slide's plan. {@linkplain TileEmbedding#failed Failed-tile markers} are not part of
 * the bag: they only told the trigger that a tile will never come, so a slide with failed tiles
 * gives a bag of its successful tiles ({@link #complete()} false). The bag keeps references to the
 * window's tiles (no copy) until {@link #embeddings()} flattens them into one row-major {@code
 * float[n * D]} for the slide head.
 */
final class SlideBag {
    final String slideId;
    final String uri;
    final String modelId;
    final int tileCount;
    final int level;
    final int tilePx;
    final double mpp;
    final long scannedAtMillis;

    /** Distinct tiles, in plan order. */
    final TileEmbedding[] tiles;

    /** D, the embedding length shared by every tile. */
    final int dimension;

    /** The tile head's class count C, or 0 when no tile carries tile-head output. */
    final int headClasses;

    private SlideBag(TileEmbedding first, TileEmbedding[] tiles, int headClasses) {
        this.slideId = first.slideId;
        this.uri = first.uri;
        this.modelId = first.modelId;
        this.tileCount = first.tileCount;
        this.level = first.level;
        this.tilePx = first.tilePx;
        this.mpp = first.mpp;
        this.scannedAtMillis = first.scannedAtMillis;
        this.tiles = tiles;
        this.dimension = first.embedding.length;
        this.headClasses = headClasses;
    }

    /**
     * Orders and checks the window contents of slide {@code slideId}: the tiles of its latest scan
     * (the highest {@code scanned_at} among them; tiles of a superseded scan are left out).
     *
     * @return the bag, or null when the window holds only failed-tile markers (every tile that
     *     arrived failed: there is nothing to aggregate)
     * @throws SlideStreamException {@code INTERNAL} when the slide has no valid tile or its tiles
     *     disagree on the plan, the model, the embedding length or the tile head's class count
     *     (mixed models cannot be aggregated)
     */
    static SlideBag assemble(String slideId, Iterable<TileEmbedding> contents) {
        TileEmbedding first = null;
        TileEmbedding[] byIndex = null;
        int distinct = 0;
        int headClasses = 0;
        boolean markers = false;
        long latestScan = Long.MIN_VALUE;
        for (TileEmbedding tile : contents) {
            latestScan = Math.max(latestScan, tile.scannedAtMillis);
        }
        for (TileEmbedding tile : contents) {
            if (tile.scannedAtMillis != latestScan) {
                // A superseded scan's tile (see SlideCompleteTrigger): never mixed into the result.
                continue;
            }
            if (tile.failed()) {
                markers = true;
                continue;
            }
            if (first == null) {
                if (tile.tileCount <= 0) {
                    throw inconsistent(
                            slideId,
                            "tile %d says the plan has %d tiles",
                            tile.tileIndex,
                            tile.tileCount);
                }
                first = tile;
                byIndex = new TileEmbedding[tile.tileCount];
            }
            checkSameSlide(slideId, first, tile);
            if (tile.tileIndex < 0
                    || tile.tileIndex >= byIndex.length
                    || byIndex[tile.tileIndex] != null) {
                continue;
            }
            int classes = tile.headProbabilities == null ? 0 : tile.headProbabilities.length;
            if (classes > 0) {
                if (headClasses == 0) {
                    headClasses = classes;
                } else if (classes != headClasses) {
                    throw inconsistent(
                            slideId,
                            "tile %d has %d tile-head probabilities, other tiles have %d",
                            tile.tileIndex,
                            classes,
                            headClasses);
                }
            }
            byIndex[tile.tileIndex] = tile;
            distinct++;
        }
        if (first == null && markers) {
            return null;
        }
        if (first == null || distinct == 0) {
            throw inconsistent(slideId, "no tile with an index inside the plan arrived");
        }
        TileEmbedding[] ordered = new TileEmbedding[distinct];
        int n = 0;
        for (TileEmbedding tile : byIndex) {
            if (tile != null) {
                ordered[n++] = tile;
            }
        }
        return new SlideBag(ordered[0], ordered, headClasses);
    }

    /** The number of distinct tiles, n. */
    int size() {
        return tiles.length;
    }

    boolean complete() {
        return tiles.length == tileCount;
    }

    /**
     * The embeddings flattened row-major into one {@code float[n * D]}, rows in plan order; built
     * once (the slide head and the live heads read the same array, neither writes it).
     */
    float[] embeddings() {
        if (rows == null) {
            rows = new float[tiles.length * dimension];
            for (int i = 0; i < tiles.length; i++) {
                System.arraycopy(tiles[i].embedding, 0, rows, i * dimension, dimension);
            }
        }
        return rows;
    }

    private float[] rows;

    /**
     * The tile head's argmax class per tile, -1 for a tile without tile-head output; null when no
     * tile has one.
     */
    int[] tileClasses() {
        if (headClasses == 0) {
            return null;
        }
        int[] classes = new int[tiles.length];
        for (int i = 0; i < tiles.length; i++) {
            float[] p = tiles[i].headProbabilities;
            classes[i] = p == null || p.length == 0 ? -1 : SlideStatistics.argmax(p);
        }
        return classes;
    }

    private static void checkSameSlide(String slideId, TileEmbedding first, TileEmbedding tile) {
        if (tile.embedding == null || tile.embedding.length == 0) {
            throw inconsistent(slideId, "tile %d has no embedding", tile.tileIndex);
        }
        if (first.embedding == null || tile.embedding.length != first.embedding.length) {
            throw inconsistent(
                    slideId,
                    "tile %d has an embedding of %d values, tile %d one of %d",
                    tile.tileIndex,
                    tile.embedding.length,
                    first.tileIndex,
                    first.embedding == null ? 0 : first.embedding.length);
        }
        if (!Objects.equals(tile.modelId, first.modelId)) {
            throw inconsistent(
                    slideId,
                    "tile %d was embedded by model '%s', tile %d by '%s'",
                    tile.tileIndex,
                    tile.modelId,
                    first.tileIndex,
                    first.modelId);
        }
        if (tile.tileCount != first.tileCount
                || tile.level != first.level
                || tile.tilePx != first.tilePx
                || Double.compare(tile.mpp, first.mpp) != 0) {
            throw inconsistent(
                    slideId,
                    "tile %d belongs to another plan (%d tiles, level %d, %d px, %s um/px) than tile"
                            + " %d (%d tiles, level %d, %d px, %s um/px)",
                    tile.tileIndex,
                    tile.tileCount,
                    tile.level,
                    tile.tilePx,
                    tile.mpp,
                    first.tileIndex,
                    first.tileCount,
                    first.level,
                    first.tilePx,
                    first.mpp);
        }
    }

    private static SlideStreamException inconsistent(
            String slideId, String format, Object... args) {
        return new SlideStreamException(
                ErrorCode.INTERNAL,
                "Cannot aggregate slide "
                        + slideId
                        + ": "
                        + String.format(format, args)
                        + ". The tiles of one slide must come from one plan and one model;"
                        + " re-submit the slide.");
    }
}
