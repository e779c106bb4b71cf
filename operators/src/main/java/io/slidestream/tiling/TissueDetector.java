package io.slidestream.tiling;

import io.slidestream.slide.SlideSource;
import java.util.Arrays;
import java.util.Objects;

/**
 * Finds the tissue on a slide the way CLAM's {@code WholeSlideImage.segmentTissue} does (the
 * segmentation GPFM's authors used): a low-resolution RGB image, its HSV saturation, a median
 * filter, Otsu's threshold and a morphological closing. Stateless apart from its settings; safe to
 * share between threads.
 *
 * <p><b>The image.</b> About {@code 1/maskDownsample} of level 0: read from the pyramid level whose
 * downsample is nearest to but not above {@link TilingConfig#maskDownsample()} (within {@link
 * TilingConfig#mppTolerance()}). When that level is finer than the mask, it is area-averaged down
 * to {@code round(level0 / maskDownsample)} pixels. The level is read in horizontal strips of at
 * most {@value #DEFAULT_MAX_READ_PIXELS} pixels so a slide without a pyramid (only level 0) is
 * never held in memory whole.
 *
 * <p><b>The threshold.</b> Otsu on the filtered saturation, as CLAM with {@code use_otsu}. A blank
 * slide has only noise, which Otsu splits anyway; so a threshold below {@link
 * TilingConfig#minSaturation()} (CLAM's fixed {@code sthresh}, 8) is raised to it, and an empty
 * slide gives an empty mask. CLAM's later contour filtering (minimum area, hole filling) is not
 * done: tiles are judged by the fraction of tissue they cover, which already ignores specks.
 *
 * <p><b>Failures.</b> A failing read propagates the slide's {@code SlideStreamException} ({@code
 * CORRUPT_SLIDE}).
 */
public final class TissueDetector {

    /** Largest read (pixels) made at once for the mask image: 16 MiB of packed RGB. */
    static final int DEFAULT_MAX_READ_PIXELS = 1 << 22;

    private final TilingConfig config;
    private final int maxReadPixels;

    public TissueDetector(TilingConfig config) {
        this(config, DEFAULT_MAX_READ_PIXELS);
    }

    TissueDetector(TilingConfig config, int maxReadPixels) {
        this.config = Objects.requireNonNull(config, "config");
        if (maxReadPixels < 1) {
            throw new IllegalArgumentException("maxReadPixels must be positive: " + maxReadPixels);
        }
        this.maxReadPixels = maxReadPixels;
    }

    /** Computes the tissue mask of {@code slide}. */
    public TissueMask detect(SlideSource slide) {
        double maskDs = config.maskDownsample();
        double tol = config.mppTolerance();
        int level = chooseMaskLevel(slide, maskDs, tol);
        long w0 = slide.levelWidth(0);
        long h0 = slide.levelHeight(0);
        int lw = toInt(slide.levelWidth(level), "width");
        int lh = toInt(slide.levelHeight(level), "height");
        double ds = slide.levelDownsample(level);

        int mw;
        int mh;
        int[] rgb;
        if (Math.abs(ds - maskDs) <= tol * maskDs) {
            mw = lw;
            mh = lh;
            rgb = readWhole(slide, level, ds, lw, lh);
        } else {
            mw = (int) Math.max(1, Math.min(lw, Math.round(w0 / maskDs)));
            mh = (int) Math.max(1, Math.min(lh, Math.round(h0 / maskDs)));
            rgb = readDownscaled(slide, level, ds, lw, lh, mw, mh);
        }

        int n = mw * mh;
        byte[] saturation = new byte[n];
        MaskFilters.saturation(rgb, 0, saturation, 0, n);
        byte[] filtered = new byte[n];
        MaskFilters.medianBlur(saturation, filtered, mw, mh, config.medianKernel());
        int otsu = MaskFilters.otsuThreshold(filtered, n);
        int threshold = Math.max(otsu, config.minSaturation());
        byte[] mask = saturation; // reused: the raw saturation is no longer needed
        for (int i = 0; i < n; i++) {
            mask[i] = (byte) ((filtered[i] & 0xFF) > threshold ? 1 : 0);
        }
        MaskFilters.close(mask, mw, mh, config.closeKernel());
        return new TissueMask(
                level, mw, mh, w0 / (double) mw, h0 / (double) mh, mask, rgb, otsu, threshold);
    }

    /** The level with the largest downsample not above {@code maskDs * (1 + tol)}. */
    static int chooseMaskLevel(SlideSource slide, double maskDs, double tol) {
        int best = 0;
        for (int i = 1; i < slide.levelCount(); i++) {
            double ds = slide.levelDownsample(i);
            if (ds <= maskDs * (1 + tol) && ds > slide.levelDownsample(best)) {
                best = i;
            }
        }
        return best;
    }

    private int rowsPerStrip(int levelWidth) {
        return Math.max(1, maxReadPixels / levelWidth);
    }

    private int[] readWhole(SlideSource slide, int level, double ds, int lw, int lh) {
        int[] rgb = new int[Math.multiplyExact(lw, lh)];
        int stripRows = Math.min(lh, rowsPerStrip(lw));
        int[] strip = new int[lw * stripRows];
        for (int row = 0; row < lh; row += stripRows) {
            int rows = Math.min(stripRows, lh - row);
            slide.readRegion(strip, 0, Math.round(row * ds), level, lw, rows);
            System.arraycopy(strip, 0, rgb, row * lw, lw * rows);
        }
        return rgb;
    }

    /**
     * Reads the level in strips and area-averages it to {@code mw x mh}: every source pixel adds
     * its value, weighted by the part of it inside each output pixel, to at most two output columns
     * and two output rows (the scale is at least 1), so only two output rows are accumulated at a
     * time.
     */
    private int[] readDownscaled(
            SlideSource slide, int level, double ds, int lw, int lh, int mw, int mh) {
        double sx = lw / (double) mw;
        double sy = lh / (double) mh;
        int[] col = new int[lw];
        float[] colWeight = new float[lw];
        spans(lw, mw, sx, col, colWeight);
        int[] row = new int[lh];
        float[] rowWeight = new float[lh];
        spans(lh, mh, sy, row, rowWeight);

        int[] out = new int[mw * mh];
        float[] line = new float[mw * 3];
        float[] current = new float[mw * 3];
        float[] next = new float[mw * 3];
        int currentRow = 0;
        float norm = (float) (1.0 / (sx * sy));

        int stripRows = Math.min(lh, rowsPerStrip(lw));
        int[] strip = new int[lw * stripRows];
        for (int start = 0; start < lh; start += stripRows) {
            int rows = Math.min(stripRows, lh - start);
            slide.readRegion(strip, 0, Math.round(start * ds), level, lw, rows);
            for (int r = 0; r < rows; r++) {
                Arrays.fill(line, 0f);
                int base = r * lw;
                for (int i = 0; i < lw; i++) {
                    int p = strip[base + i];
                    int c = col[i] * 3;
                    float w = colWeight[i];
                    float red = (p >>> 16) & 0xFF;
                    float green = (p >>> 8) & 0xFF;
                    float blue = p & 0xFF;
                    line[c] += w * red;
                    line[c + 1] += w * green;
                    line[c + 2] += w * blue;
                    if (w < 1f) {
                        float rest = 1f - w;
                        line[c + 3] += rest * red;
                        line[c + 4] += rest * green;
                        line[c + 5] += rest * blue;
                    }
                }
                int k = start + r;
                while (row[k] > currentRow) {
                    emitRow(current, out, currentRow, mw, norm);
                    float[] t = current;
                    current = next;
                    next = t;
                    Arrays.fill(next, 0f);
                    currentRow++;
                }
                float w = rowWeight[k];
                for (int i = 0; i < line.length; i++) {
                    current[i] += w * line[i];
                }
                if (w < 1f) {
                    float rest = 1f - w;
                    for (int i = 0; i < line.length; i++) {
                        next[i] += rest * line[i];
                    }
                }
            }
        }
        for (; currentRow < mh; currentRow++) {
            emitRow(current, out, currentRow, mw, norm);
            current = next;
            next = new float[mw * 3];
        }
        return out;
    }

    /**
     * For each source pixel {@code i} of {@code n}: the output pixel its left part falls in and the
     * weight of that part; the rest (if any) falls in the next output pixel.
     */
    private static void spans(int n, int outN, double scale, int[] index, float[] weight) {
        for (int i = 0; i < n; i++) {
            int o = (int) Math.min(outN - 1, Math.floor(i / scale));
            double end = (o + 1) * scale;
            double w = (o == outN - 1) ? 1.0 : Math.min(1.0, end - i);
            index[i] = o;
            weight[i] = (float) w;
        }
    }

    private static void emitRow(float[] acc, int[] out, int row, int mw, float norm) {
        int base = row * mw;
        for (int c = 0; c < mw; c++) {
            int r = channel(acc[c * 3] * norm);
            int g = channel(acc[c * 3 + 1] * norm);
            int b = channel(acc[c * 3 + 2] * norm);
            out[base + c] = (r << 16) | (g << 8) | b;
        }
    }

    private static int channel(float v) {
        int i = Math.round(v);
        return i < 0 ? 0 : (i > 255 ? 255 : i);
    }

    private static int toInt(long v, String what) {
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("level " + what + " out of range: " + v);
        }
        return (int) v;
    }
}
