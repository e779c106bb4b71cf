package io.slidestream.testing;

import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Synthetic slides with a known tissue layout for planning tests in every module: a 12 x 10 grid of
 * 256 px tiles at 0.5 um/px holding two tissue blocks aligned to that grid, far enough apart that
 * the mask's median blur and closing cannot join them. At a finer scan resolution the same field of
 * view is written with proportionally more pixels, so the plan keeps the same tiles.
 *
 * <ul>
 *   <li>block A: tile columns 1..3, rows 2..3 (6 tiles)
 *   <li>block B: tile columns 8..9, rows 6..8 (6 tiles)
 * </ul>
 */
public final class SyntheticSlides {

    /** Grid columns and rows of 256 px tiles at 0.5 um/px. */
    public static final int COLUMNS = 12;

    public static final int ROWS = 10;

    /** Tiles inside the two blocks. */
    public static final int TISSUE_TILES = 12;

    private SyntheticSlides() {}

    /**
     * The two-block layout scanned at {@code mpp} (0.5 = 20x, 0.25 = 40x, 0.125 = 80x), which must
     * divide 0.5 into a whole number.
     */
    public static SyntheticSlideWriter.Builder twoBlocks(double mpp, Style style) {
        long k = Math.round(0.5 / mpp);
        if (Math.abs(k * mpp - 0.5) > 1e-9) {
            throw new IllegalArgumentException("0.5 / mpp must be whole, got mpp " + mpp);
        }
        long t = 256 * k;
        return SyntheticSlideWriter.builder()
                .size(COLUMNS * t, ROWS * t)
                .mpp(mpp)
                .style(style)
                .seed(11)
                .tissue(1 * t, 2 * t, 3 * t, 2 * t)
                .tissue(8 * t, 6 * t, 2 * t, 3 * t);
    }

    /** Writes {@code slide} to {@code file} and returns the file. */
    public static Path write(SyntheticSlideWriter.Builder slide, Path file) {
        try {
            return slide.build().write(file).file();
        } catch (IOException e) {
            throw new UncheckedIOException("writing synthetic slide " + file + " failed", e);
        }
    }
}
