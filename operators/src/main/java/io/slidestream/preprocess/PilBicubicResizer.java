package io.slidestream.preprocess;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pixel-identical port of Pillow's {@code Image.resize(size, Image.BICUBIC)} for 8-bit RGB images
 * (Pillow 12.x, {@code src/libImaging/Resample.c}). GPFM (and every timm/torchvision pipeline that
 * feeds it PIL images) was trained and is evaluated on tiles resized this way, so embeddings are
 * only comparable with the reference when the resize gives the same bytes.
 *
 * <p>Why hand-written: neither {@code java.awt.Image.getScaledInstance}, {@code AffineTransformOp}
 * nor {@code Graphics2D} with {@code VALUE_INTERPOLATION_BICUBIC} reproduce PIL. They interpolate
 * with a fixed 4x4 kernel (no widening of the support when downsampling, so 512 px tiles alias),
 * use a different pixel-centre convention and round once at the end instead of after each pass. No
 * maintained Java library ports Pillow's resampler either. What Pillow does, and this class does
 * the same way:
 *
 * <ul>
 *   <li>Separable convolution with the Keys cubic ({@code a = -0.5}), support 2, widened by the
 *       scale factor when downsampling ({@code filterscale = max(1, in/out)}).
 *   <li>Per output pixel a window of input pixels ({@code precompute_coeffs}: centre {@code (i +
 *       0.5) * scale}, bounds rounded by truncating {@code +0.5}, clipped to the image), the
 *       weights normalised to sum 1, then converted to fixed point with {@code PRECISION_BITS = 32
 *       - 8 - 2 = 22} and round-half-away-from-zero.
 *   <li>Horizontal pass first, then vertical, each accumulated in 32-bit integers starting from
 *       {@code 1 << 21} and clipped to 8 bits ({@code clip8}); a pass is skipped when its size does
 *       not change. The horizontal pass only covers the rows the vertical pass reads (Pillow's box
 *       optimisation; it does not change results).
 * </ul>
 *
 * <p>State: coefficient tables are computed once per {@code (inSize, outSize)} pair and cached in a
 * concurrent map (bounded; sizes beyond the bound are computed per call); per-thread scratch
 * buffers are reused, so a call allocates nothing once warm. All methods are thread-safe. Invalid
 * sizes or buffers throw {@link SlideStreamException} with {@link ErrorCode#INVALID_REQUEST}.
 */
public final class PilBicubicResizer {

    /** Pillow's fixed-point precision: 8 bits for the result, 2 for overflow and sign. */
    static final int PRECISION_BITS = 32 - 8 - 2;

    private static final int HALF = 1 << (PRECISION_BITS - 1);

    /** Bicubic support in input pixels at scale 1. */
    private static final double SUPPORT = 2.0;

    /** Distinct (inSize, outSize) pairs kept; a tiling pipeline uses two or three. */
    private static final int MAX_CACHED_TABLES = 256;

    private static final ConcurrentHashMap<Long, Coefficients> CACHE = new ConcurrentHashMap<>();

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private PilBicubicResizer() {}

    /**
     * Resizes packed RGB ({@code 0x00RRGGBB}, row-major) into packed RGB, exactly as Pillow's
     * {@code resize((dstWidth, dstHeight), Image.BICUBIC)} on an RGB image. The high byte of the
     * source pixels is ignored; the high byte of {@code dst} is 0.
     */
    public static void resize(
            int[] src, int srcWidth, int srcHeight, int[] dst, int dstWidth, int dstHeight) {
        checkBuffer("dst", dst, dstWidth, dstHeight);
        int plane = dstWidth * dstHeight;
        Scratch scratch = SCRATCH.get();
        byte[] planes = scratch.planes(3 * plane);
        resizeToPlanes(src, srcWidth, srcHeight, dstWidth, dstHeight, planes);
        for (int i = 0; i < plane; i++) {
            dst[i] =
                    (planes[i] & 0xff) << 16
                            | (planes[plane + i] & 0xff) << 8
                            | (planes[2 * plane + i] & 0xff);
        }
    }

    /**
     * Resizes packed RGB into three 8-bit planes, R then G then B, each {@code dstWidth *
     * dstHeight} bytes row-major (CHW order, unsigned values in signed bytes), the layout the
     * tensor code consumes directly.
     */
    public static void resizeToPlanes(
            int[] src, int srcWidth, int srcHeight, int dstWidth, int dstHeight, byte[] planes) {
        checkBuffer("src", src, srcWidth, srcHeight);
        checkSize("target", dstWidth, dstHeight);
        int plane = dstWidth * dstHeight;
        if (planes == null || planes.length < 3L * plane) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "Plane buffer holds %d bytes, %dx%d RGB needs %d; pass a larger"
                                    + " buffer",
                            planes == null ? 0 : planes.length, dstWidth, dstHeight, 3L * plane));
        }
        boolean horizontal = dstWidth != srcWidth;
        boolean vertical = dstHeight != srcHeight;
        Scratch scratch = SCRATCH.get();
        if (!vertical) {
            // Only the horizontal pass (or none): its 8-bit rows are the result.
            if (horizontal) {
                horizontalPass(src, srcWidth, 0, srcHeight, table(srcWidth, dstWidth), planes);
            } else {
                unpack(src, srcWidth * srcHeight, planes);
            }
            return;
        }
        Coefficients vt = table(srcHeight, dstHeight);
        // Pillow's box optimisation: the first pass only produces rows the second one reads.
        int firstRow = vt.start[0];
        int lastRow = vt.start[dstHeight - 1] + vt.count[dstHeight - 1];
        int rows = lastRow - firstRow;
        byte[] temp = scratch.temp(3 * rows * dstWidth);
        if (horizontal) {
            horizontalPass(src, srcWidth, firstRow, rows, table(srcWidth, dstWidth), temp);
        } else {
            unpack(src, srcWidth, firstRow, rows, temp);
        }
        verticalPass(temp, dstWidth, rows, firstRow, vt, planes, scratch.acc(dstWidth));
    }

    /** The cached coefficient table for resampling {@code inSize} pixels to {@code outSize}. */
    static Coefficients table(int inSize, int outSize) {
        long key = ((long) inSize << 32) | outSize;
        Coefficients cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        if (CACHE.size() >= MAX_CACHED_TABLES) {
            return new Coefficients(inSize, outSize);
        }
        return CACHE.computeIfAbsent(key, k -> new Coefficients(inSize, outSize));
    }

    /**
     * Horizontal pass over {@code rows} source rows starting at {@code firstRow}: output planes of
     * {@code t.outSize x rows} bytes, plane c at {@code c * rows * t.outSize}.
     */
    private static void horizontalPass(
            int[] src, int srcWidth, int firstRow, int rows, Coefficients t, byte[] out) {
        int outWidth = t.outSize;
        int ksize = t.ksize;
        int[] start = t.start;
        int[] count = t.count;
        int[] kk = t.fixed;
        int g = rows * outWidth;
        int b = 2 * g;
        for (int y = 0; y < rows; y++) {
            int srcRow = (firstRow + y) * srcWidth;
            int outRow = y * outWidth;
            for (int xx = 0; xx < outWidth; xx++) {
                int p0 = srcRow + start[xx];
                int n = count[xx];
                int k0 = xx * ksize;
                int ss0 = HALF;
                int ss1 = HALF;
                int ss2 = HALF;
                for (int x = 0; x < n; x++) {
                    int p = src[p0 + x];
                    int k = kk[k0 + x];
                    ss0 += ((p >> 16) & 0xff) * k;
                    ss1 += ((p >> 8) & 0xff) * k;
                    ss2 += (p & 0xff) * k;
                }
                out[outRow + xx] = clip8(ss0);
                out[g + outRow + xx] = clip8(ss1);
                out[b + outRow + xx] = clip8(ss2);
            }
        }
    }

    /**
     * Vertical pass: every output row is a weighted sum of whole intermediate rows with one weight
     * per row, written as a multiply-add over contiguous arrays so the JIT vectorises it.
     */
    private static void verticalPass(
            byte[] temp, int width, int rows, int firstRow, Coefficients t, byte[] out, int[] acc) {
        int outHeight = t.outSize;
        int ksize = t.ksize;
        int tempPlane = rows * width;
        int outPlane = outHeight * width;
        for (int c = 0; c < 3; c++) {
            int tBase = c * tempPlane;
            int oBase = c * outPlane;
            for (int yy = 0; yy < outHeight; yy++) {
                int ymin = t.start[yy] - firstRow;
                int n = t.count[yy];
                int k0 = yy * ksize;
                java.util.Arrays.fill(acc, 0, width, HALF);
                for (int y = 0; y < n; y++) {
                    int k = t.fixed[k0 + y];
                    int row = tBase + (ymin + y) * width;
                    for (int xx = 0; xx < width; xx++) {
                        acc[xx] += (temp[row + xx] & 0xff) * k;
                    }
                }
                int o = oBase + yy * width;
                for (int xx = 0; xx < width; xx++) {
                    out[o + xx] = clip8(acc[xx]);
                }
            }
        }
    }

    /** Pillow's {@code clip8}: drop the fraction bits, clamp to 0..255. */
    private static byte clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
    }

    private static void unpack(int[] src, int pixels, byte[] planes) {
        for (int i = 0; i < pixels; i++) {
            int p = src[i];
            planes[i] = (byte) (p >> 16);
            planes[pixels + i] = (byte) (p >> 8);
            planes[2 * pixels + i] = (byte) p;
        }
    }

    private static void unpack(int[] src, int width, int firstRow, int rows, byte[] planes) {
        int plane = rows * width;
        int offset = firstRow * width;
        for (int i = 0; i < plane; i++) {
            int p = src[offset + i];
            planes[i] = (byte) (p >> 16);
            planes[plane + i] = (byte) (p >> 8);
            planes[2 * plane + i] = (byte) p;
        }
    }

    private static void checkSize(String what, int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height > Integer.MAX_VALUE / 3) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "Invalid %s size %dx%d: width and height must be positive and the"
                                    + " image below %d pixels",
                            what, width, height, Integer.MAX_VALUE / 3));
        }
    }

    private static void checkBuffer(String what, int[] pixels, int width, int height) {
        checkSize(what, width, height);
        if (pixels == null || pixels.length < width * height) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "The %s buffer holds %d pixels, a %dx%d image needs %d; pass a"
                                    + " buffer of width * height packed RGB values",
                            what,
                            pixels == null ? 0 : pixels.length,
                            width,
                            height,
                            width * height));
        }
    }

    /** Pillow's {@code bicubic_filter} with {@code a = -0.5}, operation for operation. */
    static double bicubic(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /**
     * Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for the full box {@code
     * (0, inSize)}: for output pixel {@code i}, input pixels {@code start[i] .. start[i] + count[i]
     * - 1} with fixed-point weights {@code fixed[i * ksize + j]}. The double arithmetic follows the
     * C source expression by expression so that every rounding matches.
     */
    static final class Coefficients {
        final int inSize;
        final int outSize;
        final int ksize;
        final int[] start;
        final int[] count;
        final double[] weights;
        final int[] fixed;

        Coefficients(int inSize, int outSize) {
            this.inSize = inSize;
            this.outSize = outSize;
            // Pillow passes the box as floats: in1 - in0 is a float subtraction, then a double.
            double scale = (double) ((float) inSize - 0.0f) / outSize;
            double filterscale = scale < 1.0 ? 1.0 : scale;
            double support = SUPPORT * filterscale;
            this.ksize = (int) Math.ceil(support) * 2 + 1;
            this.start = new int[outSize];
            this.count = new int[outSize];
            this.weights = new double[outSize * ksize];
            this.fixed = new int[outSize * ksize];
            double ss = 1.0 / filterscale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = 0.0f + (xx + 0.5) * scale;
                double ww = 0.0;
                // C's (int) cast truncates toward zero, as Java's does.
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                int k = xx * ksize;
                for (int x = 0; x < xmax; x++) {
                    double w = bicubic((x + xmin - center + 0.5) * ss);
                    weights[k + x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    if (ww != 0.0) {
                        weights[k + x] /= ww;
                    }
                }
                start[xx] = xmin;
                count[xx] = xmax;
            }
            for (int i = 0; i < fixed.length; i++) {
                double w = weights[i];
                fixed[i] =
                        w < 0
                                ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                                : (int) (0.5 + w * (1 << PRECISION_BITS));
            }
        }
    }

    /** Per-thread buffers, grown on demand and never shrunk: a worker resizes one tile size. */
    private static final class Scratch {
        private byte[] temp = new byte[0];
        private byte[] planes = new byte[0];
        private int[] acc = new int[0];

        byte[] temp(int length) {
            if (temp.length < length) {
                temp = new byte[length];
            }
            return temp;
        }

        byte[] planes(int length) {
            if (planes.length < length) {
                planes = new byte[length];
            }
            return planes;
        }

        int[] acc(int length) {
            if (acc.length < length) {
                acc = new int[length];
            }
            return acc;
        }
    }
}
