package io.slidestream.preprocess;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.Arrays;
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
 * buffers are reused, so the tensor path allocates nothing once warm (about 1 MB of scratch per
 * thread for 512 px tiles). All methods are thread-safe. Invalid sizes or buffers throw {@link
 * SlideStreamException} with {@link ErrorCode#INVALID_REQUEST}.
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

    /**
     * Most source rows per strip of the horizontal pass: long enough for the SIMD loops to pay off,
     * short enough that a strip of a 512 px tile (512 columns) stays in L2.
     */
    static final int MAX_STRIP = 192;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private PilBicubicResizer() {}

    /**
     * Resizes packed RGB ({@code 0x00RRGGBB}, row-major) into packed RGB, exactly as Pillow's
     * {@code resize((dstWidth, dstHeight), Image.BICUBIC)} on an RGB image. The high byte of the
     * source pixels is ignored; the high byte of {@code dst} is 0. A convenience for tests and
     * thumbnails: it allocates a temporary plane buffer, unlike the tensor path.
     */
    public static void resize(
            int[] src, int srcWidth, int srcHeight, int[] dst, int dstWidth, int dstHeight) {
        checkBuffer("dst", dst, dstWidth, dstHeight);
        int plane = dstWidth * dstHeight;
        byte[] planes = new byte[3 * plane];
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
        resize(src, srcWidth, srcHeight, dstWidth, dstHeight, Target.planes(planes));
    }

    /**
     * Resizes packed RGB into {@code target}: through a per-channel table straight into a CHW
     * float32 or float16 tensor (the normalisation of {@link TilePreprocessor}, fused so the 8-bit
     * image is never stored), or into 8-bit planes.
     */
    static void resizeInto(
            int[] src, int srcWidth, int srcHeight, int dstWidth, int dstHeight, Target target) {
        checkBuffer("src", src, srcWidth, srcHeight);
        checkSize("target", dstWidth, dstHeight);
        resize(src, srcWidth, srcHeight, dstWidth, dstHeight, target);
    }

    /**
     * Where the 8-bit results go: three byte planes, or through per-channel tables into a float32
     * or a float16 CHW tensor at {@code offset}. Exactly one of planes, floats and halves is set.
     */
    record Target(
            byte[] planes,
            float[] floats,
            float[][] luts,
            short[] halves,
            short[][] halfLuts,
            int offset) {
        static Target planes(byte[] planes) {
            return new Target(planes, null, null, null, null, 0);
        }

        /** A float32 tensor at {@code offset}, each value {@code luts[channel][byte]}. */
        static Target floats(float[] tensor, int offset, float[][] luts) {
            return new Target(null, tensor, luts, null, null, offset);
        }

        /** A float16 tensor at {@code offset}, each value {@code halfLuts[channel][byte]}. */
        static Target halves(short[] tensor, int offset, short[][] halfLuts) {
            return new Target(null, null, null, tensor, halfLuts, offset);
        }

        /**
         * Writes one channel's row of sums at CHW index {@code o} (plane-relative), clipped to 8
         * bits in place first: the clip runs as SIMD in its own loop, and the table lookup that
         * follows is a plain gather (one loop doing both does not vectorise).
         */
        void row(int c, int o, int[] values, int width) {
            for (int x = 0; x < width; x++) {
                values[x] = clip8(values[x]);
            }
            if (floats != null) {
                float[] lut = luts[c];
                int to = offset + o;
                for (int x = 0; x < width; x++) {
                    floats[to + x] = lut[values[x]];
                }
            } else if (halves != null) {
                short[] lut = halfLuts[c];
                int to = offset + o;
                for (int x = 0; x < width; x++) {
                    halves[to + x] = lut[values[x]];
                }
            } else {
                for (int x = 0; x < width; x++) {
                    planes[o + x] = (byte) values[x];
                }
            }
        }

        /**
         * Writes {@code width} final packed pixels ({@code 0x00RRGGBB}) from {@code pixels[from]}
         * to the three planes ({@code plane} apart) at plane-relative index {@code o}: one pass,
         * each byte straight through its table.
         */
        void packedRow(int[] pixels, int from, int o, int width, int plane) {
            if (floats != null) {
                float[] r = luts[0];
                float[] g = luts[1];
                float[] b = luts[2];
                int to = offset + o;
                for (int x = 0; x < width; x++) {
                    int p = pixels[from + x];
                    floats[to + x] = r[(p >> 16) & 0xff];
                    floats[to + plane + x] = g[(p >> 8) & 0xff];
                    floats[to + 2 * plane + x] = b[p & 0xff];
                }
            } else if (halves != null) {
                short[] r = halfLuts[0];
                short[] g = halfLuts[1];
                short[] b = halfLuts[2];
                int to = offset + o;
                for (int x = 0; x < width; x++) {
                    int p = pixels[from + x];
                    halves[to + x] = r[(p >> 16) & 0xff];
                    halves[to + plane + x] = g[(p >> 8) & 0xff];
                    halves[to + 2 * plane + x] = b[p & 0xff];
                }
            } else {
                for (int x = 0; x < width; x++) {
                    int p = pixels[from + x];
                    planes[o + x] = (byte) (p >> 16);
                    planes[o + plane + x] = (byte) (p >> 8);
                    planes[o + 2 * plane + x] = (byte) p;
                }
            }
        }
    }

    /** The resize, its result written to {@code target}. */
    private static void resize(
            int[] src, int srcWidth, int srcHeight, int dstWidth, int dstHeight, Target target) {
        boolean horizontal = dstWidth != srcWidth;
        boolean vertical = dstHeight != srcHeight;
        if (!horizontal && !vertical) {
            // Already the target size: only mapped to the target, straight from the source.
            for (int y = 0; y < srcHeight; y++) {
                target.packedRow(src, y * srcWidth, y * srcWidth, srcWidth, srcWidth * srcHeight);
            }
            return;
        }
        Scratch scratch = SCRATCH.get();
        int firstRow = 0;
        int rows = srcHeight;
        Coefficients vt = null;
        if (vertical) {
            vt = table(srcHeight, dstHeight);
            // Pillow's box optimisation: the first pass only produces rows the second one reads.
            firstRow = vt.start[0];
            rows = vt.start[dstHeight - 1] + vt.count[dstHeight - 1] - firstRow;
        }
        int[][] rowsOut = scratch.rows(rows, dstWidth);
        if (horizontal) {
            Coefficients ht = table(srcWidth, dstWidth);
            // Even strips: a short last strip would cost as much loop overhead as a full one.
            int strips = (rows + MAX_STRIP - 1) / MAX_STRIP;
            int strip = (rows + strips - 1) / strips;
            int[][] columns = scratch.columns(srcWidth, strip);
            int[][] columnsOut = scratch.columnsOut(dstWidth, strip);
            int[][] acc = scratch.acc(strip);
            for (int y0 = 0; y0 < rows; y0 += strip) {
                int stripRows = Math.min(strip, rows - y0);
                transposeIn(src, srcWidth, firstRow + y0, stripRows, columns);
                horizontalPass(columns, stripRows, ht, columnsOut, acc);
                transposeOut(columnsOut, y0, stripRows, dstWidth, rowsOut);
            }
        } else {
            for (int y = 0; y < rows; y++) {
                System.arraycopy(src, (firstRow + y) * srcWidth, rowsOut[y], 0, srcWidth);
            }
        }
        if (vertical) {
            verticalPass(rowsOut, dstWidth, firstRow, vt, scratch.acc(dstWidth), target);
        } else {
            for (int y = 0; y < rows; y++) {
                target.packedRow(rowsOut[y], 0, y * dstWidth, dstWidth, rows * dstWidth);
            }
        }
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

    /*
     * Layouts. Pillow walks each row and gathers a short, differently placed window per output
     * pixel, which the JIT cannot vectorise. Here the horizontal pass runs on a transposed strip
     * of up to MAX_STRIP rows instead: one int[] per source column holds that column's packed
     * pixels, so each output column is a weighted sum of whole source columns with one weight
     * each - a multiply-add over int arrays that C2 turns into SIMD, unpacking R, G and B in the
     * same loop.
     * The vertical pass works the same way on the packed intermediate rows. Every column and row
     * is its own array and the loops index all arrays with the same plain i: C2 in JDK 17 does
     * not vectorise a loop whose arrays are indexed at different offsets (it cannot rule out
     * aliasing), which made a flat-array version run at scalar speed. The integer arithmetic per
     * output value is exactly Pillow's, only the loop order differs, and integer addition is
     * associative, so the result is bit-identical.
     */

    /**
     * Source rows {@code firstRow .. firstRow + rows - 1} to columns, eight columns at a time down
     * the rows: each row gives eight adjacent pixels, and the eight column arrays stay in registers
     * (blocks of columns walked row by row reload a column array per pixel and hit power-of-two
     * strides).
     */
    private static void transposeIn(int[] src, int width, int firstRow, int rows, int[][] columns) {
        int x = 0;
        for (; x + 8 <= width; x += 8) {
            int[] c0 = columns[x];
            int[] c1 = columns[x + 1];
            int[] c2 = columns[x + 2];
            int[] c3 = columns[x + 3];
            int[] c4 = columns[x + 4];
            int[] c5 = columns[x + 5];
            int[] c6 = columns[x + 6];
            int[] c7 = columns[x + 7];
            int s = firstRow * width + x;
            for (int y = 0; y < rows; y++, s += width) {
                c0[y] = src[s];
                c1[y] = src[s + 1];
                c2[y] = src[s + 2];
                c3[y] = src[s + 3];
                c4[y] = src[s + 4];
                c5[y] = src[s + 5];
                c6[y] = src[s + 6];
                c7[y] = src[s + 7];
            }
        }
        for (; x < width; x++) {
            int[] c = columns[x];
            int s = firstRow * width + x;
            for (int y = 0; y < rows; y++, s += width) {
                c[y] = src[s];
            }
        }
    }

    /**
     * Horizontal pass over one strip of {@code rows} rows, column by column, clipped to 8 bits and
     * packed again, as Pillow rounds after this pass.
     */
    private static void horizontalPass(
            int[][] columns, int rows, Coefficients t, int[][] out, int[][] acc) {
        int ksize = t.ksize;
        int[] start = t.start;
        int[] count = t.count;
        int[] kk = t.fixed;
        for (int xx = 0; xx < t.outSize; xx++) {
            weightedSum(acc, columns, start[xx], count[xx], kk, xx * ksize, rows);
            pack(acc, out[xx], rows);
        }
    }

    /**
     * {@code acc[c][i] = HALF + sum_j channel_c(in[first + j][i]) * kk[k0 + j]} for c = R, G, B:
     * the SIMD core of both passes, one tap at a time. (Four taps per loop, to load and store the
     * sums less often, stopped C2 from vectorising and ran at less than half the speed.)
     */
    private static void weightedSum(
            int[][] acc, int[][] in, int first, int count, int[] kk, int k0, int length) {
        Arrays.fill(acc[0], 0, length, HALF);
        Arrays.fill(acc[1], 0, length, HALF);
        Arrays.fill(acc[2], 0, length, HALF);
        for (int j = 0; j < count; j++) {
            multiplyAdd(acc, in[first + j], kk[k0 + j], length);
        }
    }

    private static void multiplyAdd(int[][] acc, int[] in, int k, int length) {
        int[] r = acc[0];
        int[] g = acc[1];
        int[] b = acc[2];
        for (int i = 0; i < length; i++) {
            int p = in[i];
            r[i] += ((p >> 16) & 0xff) * k;
            g[i] += ((p >> 8) & 0xff) * k;
            b[i] += (p & 0xff) * k;
        }
    }

    /** Clips the three sums to 8 bits and packs them as {@code 0x00RRGGBB}. */
    private static void pack(int[][] acc, int[] out, int length) {
        int[] r = acc[0];
        int[] g = acc[1];
        int[] b = acc[2];
        for (int i = 0; i < length; i++) {
            out[i] = clip8(r[i]) << 16 | clip8(g[i]) << 8 | clip8(b[i]);
        }
    }

    /**
     * One strip of horizontal results back to rows {@code y0 .. y0 + rows - 1}, as {@link
     * #transposeIn}.
     */
    private static void transposeOut(
            int[][] columns, int y0, int rows, int width, int[][] rowsOut) {
        int x = 0;
        for (; x + 8 <= width; x += 8) {
            int[] c0 = columns[x];
            int[] c1 = columns[x + 1];
            int[] c2 = columns[x + 2];
            int[] c3 = columns[x + 3];
            int[] c4 = columns[x + 4];
            int[] c5 = columns[x + 5];
            int[] c6 = columns[x + 6];
            int[] c7 = columns[x + 7];
            for (int y = 0; y < rows; y++) {
                int[] row = rowsOut[y0 + y];
                row[x] = c0[y];
                row[x + 1] = c1[y];
                row[x + 2] = c2[y];
                row[x + 3] = c3[y];
                row[x + 4] = c4[y];
                row[x + 5] = c5[y];
                row[x + 6] = c6[y];
                row[x + 7] = c7[y];
            }
        }
        for (; x < width; x++) {
            int[] c = columns[x];
            for (int y = 0; y < rows; y++) {
                rowsOut[y0 + y][x] = c[y];
            }
        }
    }

    /**
     * Vertical pass: every output row is a weighted sum of whole intermediate rows, one weight per
     * row, clipped to 8 bits and written to the R, G and B planes (or tensor planes).
     */
    private static void verticalPass(
            int[][] rowsIn, int width, int firstRow, Coefficients t, int[][] acc, Target target) {
        int plane = t.outSize * width;
        int ksize = t.ksize;
        for (int yy = 0; yy < t.outSize; yy++) {
            int ymin = t.start[yy] - firstRow;
            int k0 = yy * ksize;
            weightedSum(acc, rowsIn, ymin, t.count[yy], t.fixed, k0, width);
            for (int c = 0; c < 3; c++) {
                target.row(c, c * plane + yy * width, acc[c], width);
            }
        }
    }

    /**
     * Pillow's {@code clip8}: drop the fraction bits, clamp to 0..255. Written with shifts and
     * masks instead of {@code Math.min}/{@code max}: C2 in JDK 17 vectorises these, not those, and
     * it runs once per channel of every intermediate and final pixel.
     */
    static int clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        v &= ~(v >> 31); // negative: 0
        return (v | ((255 - v) >> 31)) & 0xff; // above 255: 255
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
        private int[][] columns = new int[0][0];
        private int[][] columnsOut = new int[0][0];
        private int[][] rows = new int[0][0];
        private int[][] acc = new int[3][0];

        int[][] columns(int count, int length) {
            columns = ensure(columns, count, length);
            return columns;
        }

        int[][] columnsOut(int count, int length) {
            columnsOut = ensure(columnsOut, count, length);
            return columnsOut;
        }

        int[][] rows(int count, int length) {
            rows = ensure(rows, count, length);
            return rows;
        }

        /** Three sum arrays, R, G and B. */
        int[][] acc(int length) {
            acc = ensure(acc, 3, length);
            return acc;
        }

        private static int[][] ensure(int[][] arrays, int count, int length) {
            int have = arrays.length == 0 ? 0 : arrays[0].length;
            if (arrays.length >= count && have >= length) {
                return arrays;
            }
            return new int[Math.max(count, arrays.length)][Math.max(length, have)];
        }
    }
}
