package io.slidestream.tiling;

import io.slidestream.schemas.records.TileTask;
import java.util.Objects;

/**
 * The keyed state of {@link SlideTiler} for one slide whose tile tasks are still being emitted: the
 * task template (uri, read geometry, announcement time) and the kept tiles of its {@link TilePlan}
 * in plan order, as primitive arrays (a resection's 15,000 tiles are about 300 KB). Written once
 * per slide; the index of the next task to emit is a separate, small state so that a RocksDB
 * backend does not rewrite the arrays on every chunk.
 *
 * <p>A Flink POJO (public no-arg constructor, public fields; the arrays are Flink's primitive array
 * types), so its state is never serialized with Kryo.
 */
public class PendingTileTasks {
    /** Where the slide file is (copied into every task). */
    public String uri;

    /** Epoch milliseconds at which the slide was announced. */
    public long scannedAtMillis;

    /** The pyramid level tiles are read from. */
    public int level;

    /** Edge of each read in pixels of {@link #level}. */
    public int readPx;

    /** Edge of each read in level-0 pixels (0 in state written before it was kept). */
    public long extentPx;

    /** Edge of each tile at the target resolution. */
    public int tilePx;

    /** Target resolution in micrometres per pixel. */
    public double mpp;

    /** Level-0 x of each kept tile, in plan order. */
    public long[] xs;

    /** Level-0 y of each kept tile, in plan order. */
    public long[] ys;

    /** Tissue fraction of each kept tile, in plan order. */
    public float[] tissue;

    public PendingTileTasks() {}

    /** The tasks of {@code plan} (which has tissue tiles) for the slide at {@code uri}. */
    public static PendingTileTasks of(TilePlan plan, String uri, long scannedAtMillis) {
        PendingTileTasks p = new PendingTileTasks();
        p.uri = Objects.requireNonNull(uri, "uri");
        p.scannedAtMillis = scannedAtMillis;
        p.level = plan.readLevel();
        p.readPx = plan.readPx();
        p.extentPx = plan.span0();
        p.tilePx = plan.tilePx();
        p.mpp = plan.targetMpp();
        p.xs = plan.tileXs();
        p.ys = plan.tileYs();
        p.tissue = plan.tileTissues();
        return p;
    }

    /** How many tasks the slide has in all. */
    public int taskCount() {
        return xs.length;
    }

    /** The task for kept tile {@code index} of slide {@code slideId}. */
    public TileTask task(String slideId, int index) {
        Objects.checkIndex(index, xs.length);
        TileTask t = new TileTask();
        t.slideId = slideId;
        t.uri = uri;
        t.x = xs[index];
        t.y = ys[index];
        t.level = level;
        t.readPx = readPx;
        t.extentPx = extentPx;
        t.tilePx = tilePx;
        t.mpp = mpp;
        t.tissue = tissue[index];
        t.tileIndex = index;
        t.tileCount = xs.length;
        t.scannedAtMillis = scannedAtMillis;
        return t;
    }
}
