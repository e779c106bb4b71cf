package io.slidestream.tiling;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.SlideSource;
import java.util.Objects;

/**
 * Where and how big the reads of one slide's tiles are: the pyramid level, the read size at that
 * level, the step between tiles and the grid of tiles that fit inside the slide. Pure arithmetic on
 * the slide's level sizes and its level-0 resolution; immutable.
 *
 * <p><b>Level.</b> The read level is the coarsest level whose resolution {@code mpp0 * downsample}
 * is still at least as fine as the target, with the relative tolerance {@link
 * TilingConfig#mppTolerance()} (0.505 um/px counts as 0.5). When even level 0 is coarser than the
 * target the tiles are read at level 0 with fewer pixels than the tile and upsampled later; {@link
 * #upsampled()} says so. That is a warning, not an error: the field of view stays right.
 *
 * <p><b>Rounding.</b> {@code scale = targetMpp / levelMpp} is the number of level pixels per target
 * pixel. When it lies within the tolerance of a whole number it is snapped to it, so a 0.2498 um/px
 * scan gives exactly 512 px reads for 256 px tiles at 0.5 um/px, as the GPFM authors cut them. The
 * read size and the step are then rounded <em>at the read level</em> ({@code readPx = round(tilePx
 * * scale)}, {@code stepPx = round(stridePx * scale)}) and multiplied by the level downsample to
 * give level-0 values. Rounding at the read level (rather than rounding {@code stridePx * targetMpp
 * / mpp0} at level 0) keeps every tile origin on a whole pixel of the read level and makes a stride
 * equal to the tile size give reads that abut exactly, with neither gap nor overlap. The cost is a
 * field of view off by less than half a read-level pixel per tile. Level-0 coordinates are {@code
 * column * step0} and {@code row * step0}: exact integers.
 *
 * <p><b>Edges.</b> A tile is in the grid only when its whole read lies inside the slide, both in
 * level-0 pixels and in pixels of the read level (whose size the format may have rounded down).
 */
public final class TileGeometry {

    private final long level0Width;
    private final long level0Height;
    private final double mpp0;
    private final double targetMpp;
    private final int tilePx;
    private final int stridePx;
    private final int readLevel;
    private final double readDownsample;
    private final int readPx;
    private final int readStepPx;
    private final long span0;
    private final long step0;
    private final int columns;
    private final int rows;

    private TileGeometry(
            long level0Width,
            long level0Height,
            double mpp0,
            TilingConfig config,
            int readLevel,
            double readDownsample,
            int readPx,
            int readStepPx,
            int columns,
            int rows) {
        this.level0Width = level0Width;
        this.level0Height = level0Height;
        this.mpp0 = mpp0;
        this.targetMpp = config.targetMpp();
        this.tilePx = config.tilePx();
        this.stridePx = config.stridePx();
        this.readLevel = readLevel;
        this.readDownsample = readDownsample;
        this.readPx = readPx;
        this.readStepPx = readStepPx;
        this.span0 = Math.round(readPx * readDownsample);
        this.step0 = Math.round(readStepPx * readDownsample);
        this.columns = columns;
        this.rows = rows;
    }

    /**
     * The geometry for {@code slide} at level-0 resolution {@code mpp0}.
     *
     * @throws SlideStreamException {@code UNKNOWN_RESOLUTION} when {@code mpp0} is not a positive
     *     number
     */
    public static TileGeometry forSlide(SlideSource slide, double mpp0, TilingConfig config) {
        int n = slide.levelCount();
        long[] widths = new long[n];
        long[] heights = new long[n];
        double[] downsamples = new double[n];
        for (int i = 0; i < n; i++) {
            widths[i] = slide.levelWidth(i);
            heights[i] = slide.levelHeight(i);
            downsamples[i] = slide.levelDownsample(i);
        }
        return of(widths, heights, downsamples, mpp0, config);
    }

    /**
     * The geometry for a pyramid given as level sizes and downsamples (index = level; level 0
     * first).
     */
    public static TileGeometry of(
            long[] levelWidths,
            long[] levelHeights,
            double[] downsamples,
            double mpp0,
            TilingConfig config) {
        Objects.requireNonNull(config, "config");
        if (!(Double.isFinite(mpp0) && mpp0 > 0)) {
            throw new SlideStreamException(
                    ErrorCode.UNKNOWN_RESOLUTION,
                    String.format(
                            "level-0 resolution %s um/px is not a positive number; configure a"
                                    + " default resolution for slides without MPP metadata",
                            mpp0));
        }
        if (levelWidths.length == 0
                || levelWidths.length != levelHeights.length
                || levelWidths.length != downsamples.length) {
            throw new IllegalArgumentException("level arrays must be non-empty and equally long");
        }
        double tol = config.mppTolerance();
        int level = chooseReadLevel(downsamples, mpp0, config.targetMpp(), tol);
        double ds = downsamples[level];
        double scale = config.targetMpp() / (mpp0 * ds);
        double whole = Math.rint(scale);
        if (whole >= 1 && Math.abs(scale - whole) <= tol * scale) {
            scale = whole;
        }
        int readPx = (int) Math.max(1, Math.round(config.tilePx() * scale));
        int readStep = (int) Math.max(1, Math.round(config.stridePx() * scale));
        long span0 = Math.round(readPx * ds);
        long step0 = Math.round(readStep * ds);
        int columns =
                Math.min(
                        fit(levelWidths[0], span0, step0),
                        fit(levelWidths[level], readPx, readStep));
        int rows =
                Math.min(
                        fit(levelHeights[0], span0, step0),
                        fit(levelHeights[level], readPx, readStep));
        return new TileGeometry(
                levelWidths[0],
                levelHeights[0],
                mpp0,
                config,
                level,
                ds,
                readPx,
                readStep,
                columns,
                rows);
    }

    /**
     * The coarsest level with {@code mpp0 * downsample <= targetMpp * (1 + tol)}, or the finest
     * level when none qualifies (the slide is coarser than the target).
     */
    static int chooseReadLevel(double[] downsamples, double mpp0, double targetMpp, double tol) {
        int best = -1;
        int finest = 0;
        for (int i = 0; i < downsamples.length; i++) {
            if (downsamples[i] < downsamples[finest]) {
                finest = i;
            }
            if (mpp0 * downsamples[i] <= targetMpp * (1 + tol)
                    && (best < 0 || downsamples[i] > downsamples[best])) {
                best = i;
            }
        }
        return best >= 0 ? best : finest;
    }

    /** How many reads of {@code span} with step {@code step} fit in {@code extent}. */
    private static int fit(long extent, long span, long step) {
        if (extent < span) {
            return 0;
        }
        long n = (extent - span) / step + 1;
        if (n > Integer.MAX_VALUE) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "a slide edge of %d px gives %d tiles in one row; raise"
                                    + " tiling.stride-px",
                            extent, n));
        }
        return (int) n;
    }

    public long level0Width() {
        return level0Width;
    }

    public long level0Height() {
        return level0Height;
    }

    /** Level-0 resolution in micrometres per pixel. */
    public double mpp0() {
        return mpp0;
    }

    /** Target resolution in micrometres per pixel. */
    public double targetMpp() {
        return targetMpp;
    }

    /** Tile edge at the target resolution. */
    public int tilePx() {
        return tilePx;
    }

    /** Tile step at the target resolution. */
    public int stridePx() {
        return stridePx;
    }

    /** The pyramid level the tiles are read from. */
    public int readLevel() {
        return readLevel;
    }

    /** Downsample of {@link #readLevel()}. */
    public double readDownsample() {
        return readDownsample;
    }

    /** Resolution of the read level in micrometres per pixel. */
    public double readLevelMpp() {
        return mpp0 * readDownsample;
    }

    /** Edge of each read in pixels of the read level. */
    public int readPx() {
        return readPx;
    }

    /** Step between reads in pixels of the read level. */
    public int readStepPx() {
        return readStepPx;
    }

    /** Edge of each tile in level-0 pixels (the area it covers). */
    public long span0() {
        return span0;
    }

    /** Step between neighbouring tiles in level-0 pixels. */
    public long step0() {
        return step0;
    }

    /** Tiles per row of the grid (only tiles wholly inside the slide). */
    public int columns() {
        return columns;
    }

    /** Rows of the grid. */
    public int rows() {
        return rows;
    }

    /** {@code columns * rows}. */
    public long gridTileCount() {
        return (long) columns * rows;
    }

    /** Level-0 x of the tiles in {@code column}. */
    public long tileX(int column) {
        return column * step0;
    }

    /** Level-0 y of the tiles in {@code row}. */
    public long tileY(int row) {
        return row * step0;
    }

    /** True when the read has fewer pixels than the tile: the slide is coarser than the target. */
    public boolean upsampled() {
        return readPx < tilePx;
    }

    @Override
    public String toString() {
        return String.format(
                "TileGeometry{level=%d (ds %.4f, %.4f um/px), read %d px step %d px, level-0"
                        + " span %d step %d, grid %dx%d, tile %d px @ %.4f um/px%s}",
                readLevel,
                readDownsample,
                readLevelMpp(),
                readPx,
                readStepPx,
                span0,
                step0,
                columns,
                rows,
                tilePx,
                targetMpp,
                upsampled() ? ", upsampled" : "");
    }
}
