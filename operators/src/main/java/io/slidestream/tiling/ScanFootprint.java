package io.slidestream.tiling;

import java.util.BitSet;

/**
 * Which tile keys one scan of a slide wrote: the read level, the grid step in level-0 pixels and a
 * bitset over the grid (bit {@code row * columns + column} for the tile at level-0 ({@code column *
 * step0}, {@code row * step0})). {@link SlideTiler} keeps the footprint of every slide's latest
 * planned scan so that a re-scan can remove the tiles its own plan lacks ({@link
 * #forEachMissingIn}).
 *
 * <p>Compact on purpose: it lives in keyed state for {@code tiling.scan-memory} (30 days) per
 * slide. A 100,000 x 80,000 px slide at 224 px / 0.5 mpp has a grid of about 40,000 cells: 5 KB,
 * whatever its tissue, where the plan's coordinate arrays would take 16 bytes per tissue tile.
 *
 * <p>A Flink POJO (public no-arg constructor, public fields, a primitive array), never Kryo.
 */
public class ScanFootprint {
    /** The pyramid level the scan's tiles were read from (part of every tile key). */
    public int level;

    /** Grid step between neighbouring tiles, level-0 pixels. */
    public long step0;

    public int columns;
    public int rows;

    /** {@link BitSet#toLongArray()} of the kept grid cells. */
    public long[] cells;

    public ScanFootprint() {}

    /** The footprint of {@code plan}'s kept tiles. */
    public static ScanFootprint of(TilePlan plan) {
        ScanFootprint f = new ScanFootprint();
        f.level = plan.readLevel();
        f.step0 = plan.step0();
        f.columns = plan.gridColumns();
        f.rows = plan.gridRows();
        BitSet bits = new BitSet();
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            bits.set(f.cell(plan.tileX(i), plan.tileY(i)));
        }
        f.cells = bits.toLongArray();
        return f;
    }

    /** Receives the key of a tile. */
    @FunctionalInterface
    public interface TileKeyConsumer {
        void accept(int level, long x, long y);
    }

    /**
     * Calls {@code missing} with every tile key of this footprint that {@code next} does not have:
     * a cell {@code next} did not keep, or any cell when the two differ in level or grid (keys of
     * another level never coincide; on another grid a key survives only where the positions
     * coincide).
     */
    public void forEachMissingIn(ScanFootprint next, TileKeyConsumer missing) {
        BitSet mine = BitSet.valueOf(cells);
        BitSet theirs = BitSet.valueOf(next.cells);
        for (int cell = mine.nextSetBit(0); cell >= 0; cell = mine.nextSetBit(cell + 1)) {
            long x = (long) (cell % columns) * step0;
            long y = (long) (cell / columns) * step0;
            if (!next.contains(theirs, level, x, y)) {
                missing.accept(level, x, y);
            }
        }
    }

    /** How many tiles the scan kept. */
    public int tileCount() {
        return BitSet.valueOf(cells).cardinality();
    }

    private boolean contains(BitSet bits, int keyLevel, long x, long y) {
        if (keyLevel != level || x % step0 != 0 || y % step0 != 0) {
            return false;
        }
        long column = x / step0;
        long row = y / step0;
        return column < columns && row < rows && bits.get(cell(x, y));
    }

    private int cell(long x, long y) {
        return Math.toIntExact((y / step0) * columns + x / step0);
    }
}
