package io.slidestream.tiling;

import io.slidestream.slide.SlideSource;
import java.util.Arrays;
import java.util.Objects;

/**
 * Plans the tiles of a slide: chooses the read level and size ({@link TileGeometry}), finds the
 * tissue ({@link TissueDetector}) and keeps every grid tile whose tissue fraction is at or above
 * {@link TilingConfig#tissueThreshold()}, in row-major order. Reads only the low-resolution mask
 * image, never the tiles. Stateless apart from its settings; safe to share between threads.
 *
 * <p>A slide without tissue gives a plan with outcome {@code NO_TISSUE}; a failing read propagates
 * the slide's {@code SlideStreamException}; an unusable level-0 resolution fails with {@code
 * UNKNOWN_RESOLUTION}.
 */
public final class TilePlanner {

    /**
     * Slack when comparing a tile's tissue fraction with the threshold: the fraction is a ratio of
     * floating-point areas, and a tile covering exactly a quarter of tissue must count as 0.25.
     */
    static final double THRESHOLD_SLACK = 1e-9;

    private final TilingConfig config;
    private final TissueDetector detector;

    public TilePlanner(TilingConfig config) {
        this(config, new TissueDetector(config));
    }

    TilePlanner(TilingConfig config, TissueDetector detector) {
        this.config = Objects.requireNonNull(config, "config");
        this.detector = Objects.requireNonNull(detector, "detector");
    }

    public TilingConfig config() {
        return config;
    }

    /**
     * Plans {@code slide}, whose level-0 resolution is {@code mpp0} micrometres per pixel.
     *
     * @throws io.slidestream.errors.SlideStreamException {@code UNKNOWN_RESOLUTION} for a
     *     non-positive {@code mpp0}; the slide's read failures ({@code CORRUPT_SLIDE})
     */
    public TilePlan plan(SlideSource slide, double mpp0) {
        TileGeometry geometry = TileGeometry.forSlide(slide, mpp0, config);
        TissueMask mask = detector.detect(slide);
        return plan(geometry, mask);
    }

    /** Keeps the tiles of {@code geometry} that {@code mask} marks as tissue. */
    public TilePlan plan(TileGeometry geometry, TissueMask mask) {
        int columns = geometry.columns();
        int rows = geometry.rows();
        long span = geometry.span0();
        double threshold = config.tissueThreshold() - THRESHOLD_SLACK;
        // sized for the common case (a third of the grid is tissue) and grown by doubling
        int capacity =
                (int) Math.min(Integer.MAX_VALUE - 8, Math.max(16, geometry.gridTileCount() / 3));
        long[] xs = new long[capacity];
        long[] ys = new long[capacity];
        float[] tissue = new float[capacity];
        int kept = 0;
        double max = 0;
        for (int r = 0; r < rows; r++) {
            long y = geometry.tileY(r);
            for (int c = 0; c < columns; c++) {
                long x = geometry.tileX(c);
                double f = mask.tissueFraction(x, y, span, span);
                if (f > max) {
                    max = f;
                }
                if (f >= threshold) {
                    if (kept == xs.length) {
                        int grown = (int) Math.min(Integer.MAX_VALUE - 8, 2L * kept);
                        xs = Arrays.copyOf(xs, grown);
                        ys = Arrays.copyOf(ys, grown);
                        tissue = Arrays.copyOf(tissue, grown);
                    }
                    xs[kept] = x;
                    ys[kept] = y;
                    tissue[kept] = (float) f;
                    kept++;
                }
            }
        }
        return new TilePlan(
                geometry,
                mask,
                config.tissueThreshold(),
                Arrays.copyOf(xs, kept),
                Arrays.copyOf(ys, kept),
                Arrays.copyOf(tissue, kept),
                max);
    }
}
