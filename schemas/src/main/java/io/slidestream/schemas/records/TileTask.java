package io.slidestream.schemas.records;

import java.util.Objects;

/**
 * One tissue tile to read and embed: a small record (no pixels) that is rebalanced across slots.
 * Coordinates are level-0 pixels; the reader reads {@code readPx x readPx} pixels at {@code level}
 * and the preprocessing resizes them to the model's input size.
 *
 * <p>A Flink POJO: public no-arg constructor, public mutable fields.
 */
public class TileTask {
    /** Stable id of the slide (from the SlideScanned event). */
    public String slideId;

    /** Where the slide file is (a local path or file: URI). */
    public String uri;

    /** Level-0 x of the tile's top-left corner. */
    public long x;

    /** Level-0 y of the tile's top-left corner. */
    public long y;

    /** The pyramid level the tile is read from. */
    public int level;

    /** Edge of the region read at {@code level}, in that level's pixels. */
    public int readPx;

    /**
     * Edge of the region in level-0 pixels ({@code readPx} times the level's downsample, rounded):
     * the tile covers {@code [x, x + extentPx) x [y, y + extentPx)} at level 0.
     */
    public long extentPx;

    /** Edge of the tile at the target resolution (the field of view in target pixels). */
    public int tilePx;

    /** Target resolution in micrometres per pixel. */
    public double mpp;

    /** Fraction of the tile covered by tissue in the low-resolution mask, 0..1. */
    public float tissue;

    /** Index of this tile in the slide's plan, 0..tileCount-1. */
    public int tileIndex;

    /** How many tiles the slide's plan has: the slide window fires when all have arrived. */
    public int tileCount;

    /** Epoch milliseconds at which the slide was announced (carried for latency metrics). */
    public long scannedAtMillis;

    public TileTask() {}

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TileTask)) {
            return false;
        }
        TileTask t = (TileTask) o;
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
                && Objects.equals(uri, t.uri);
    }

    @Override
    public int hashCode() {
        return Objects.hash(slideId, x, y, level, tileIndex);
    }

    @Override
    public String toString() {
        return "TileTask{"
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
                + " "
                + readPx
                + "px}";
    }
}
