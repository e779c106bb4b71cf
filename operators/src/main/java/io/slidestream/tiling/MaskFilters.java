package io.slidestream.tiling;

import java.util.Arrays;

/**
 * The image operations of the tissue detector on 8-bit single-channel images, each written to give
 * the same result as the OpenCV call CLAM makes (OpenCV is not a dependency of the project: its
 * Java build is not on Maven Central and it would bring a native library for four small loops).
 * Images are row-major {@code byte[]} read as unsigned. All methods are allocation-light and run in
 * linear time; they hold no state.
 */
final class MaskFilters {

    private static final int HSV_SHIFT = 12;

    /** OpenCV's {@code sdiv_table}: {@code round((255 << 12) / v)}, 0 for v = 0. */
    private static final int[] SATURATION_DIV = new int[256];

    static {
        for (int v = 1; v < 256; v++) {
            SATURATION_DIV[v] = (int) Math.round((255 << HSV_SHIFT) / (double) v);
        }
    }

    private MaskFilters() {}

    /**
     * HSV saturation of packed {@code 0x00RRGGBB} pixels exactly as OpenCV's {@code
     * cvtColor(COLOR_RGB2HSV)} computes it for 8-bit images: {@code S = 255 * (max - min) / max} in
     * 12-bit fixed point, rounded.
     */
    static void saturation(int[] rgb, int offset, byte[] dest, int destOffset, int count) {
        for (int i = 0; i < count; i++) {
            int p = rgb[offset + i];
            int r = (p >>> 16) & 0xFF;
            int g = (p >>> 8) & 0xFF;
            int b = p & 0xFF;
            int max = Math.max(r, Math.max(g, b));
            int min = Math.min(r, Math.min(g, b));
            int s = ((max - min) * SATURATION_DIV[max] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT;
            dest[destOffset + i] = (byte) s;
        }
    }

    /**
     * Median filter with a {@code k x k} window and replicated borders, as OpenCV's {@code
     * medianBlur} for 8-bit images. Huang's sliding histogram: each step right removes one column
     * of the window and adds one, and the median is tracked by the count of values below it, so a
     * pixel costs {@code 2k} histogram updates plus a short walk instead of a sort. {@code k = 1}
     * copies.
     */
    static void medianBlur(byte[] src, byte[] dst, int width, int height, int k) {
        if (k < 1 || k % 2 == 0) {
            throw new IllegalArgumentException("median kernel must be odd and positive: " + k);
        }
        if (k == 1) {
            System.arraycopy(src, 0, dst, 0, width * height);
            return;
        }
        int r = k / 2;
        int rank = (k * k) / 2; // 0-based rank of the median of k*k values
        int[] hist = new int[256];
        int[] rowOffsets = new int[k];
        for (int y = 0; y < height; y++) {
            Arrays.fill(hist, 0);
            for (int dy = -r; dy <= r; dy++) {
                rowOffsets[dy + r] = clamp(y + dy, height) * width;
            }
            for (int dx = -r; dx <= r; dx++) {
                int xx = clamp(dx, width);
                for (int j = 0; j < k; j++) {
                    hist[src[rowOffsets[j] + xx] & 0xFF]++;
                }
            }
            int med = 0;
            int below = 0;
            while (below + hist[med] <= rank) {
                below += hist[med];
                med++;
            }
            int out = y * width;
            dst[out] = (byte) med;
            for (int x = 1; x < width; x++) {
                int xOut = clamp(x - r - 1, width);
                int xIn = clamp(x + r, width);
                for (int j = 0; j < k; j++) {
                    int vOut = src[rowOffsets[j] + xOut] & 0xFF;
                    int vIn = src[rowOffsets[j] + xIn] & 0xFF;
                    hist[vOut]--;
                    hist[vIn]++;
                    if (vOut < med) {
                        below--;
                    }
                    if (vIn < med) {
                        below++;
                    }
                }
                while (below > rank) {
                    med--;
                    below -= hist[med];
                }
                while (below + hist[med] <= rank) {
                    below += hist[med];
                    med++;
                }
                dst[out + x] = (byte) med;
            }
        }
    }

    /**
     * Otsu's threshold of 8-bit values, as OpenCV's {@code THRESH_OTSU} computes it (same
     * accumulation order and the same skip of classes below {@code FLT_EPSILON}, so ties resolve to
     * the same value). Pixels {@code > threshold} are foreground. Returns 0 when all values are
     * equal.
     */
    static int otsuThreshold(byte[] src, int count) {
        int[] hist = new int[256];
        for (int i = 0; i < count; i++) {
            hist[src[i] & 0xFF]++;
        }
        return otsuThreshold(hist, count);
    }

    static int otsuThreshold(int[] hist, int count) {
        final double fltEpsilon = 1.1920928955078125e-7; // C's FLT_EPSILON
        double scale = 1.0 / count;
        double mu = 0;
        for (int i = 0; i < 256; i++) {
            mu += i * (double) hist[i];
        }
        mu *= scale;
        double mu1 = 0;
        double q1 = 0;
        double maxSigma = 0;
        int maxVal = 0;
        for (int i = 0; i < 256; i++) {
            double pi = hist[i] * scale;
            // OpenCV keeps mu1 as a running mean and rescales it by q1 first; kept as is so
            // rounding matches.
            mu1 *= q1;
            q1 += pi;
            double q2 = 1.0 - q1;
            if (Math.min(q1, q2) < fltEpsilon || Math.max(q1, q2) > 1.0 - fltEpsilon) {
                continue;
            }
            mu1 = (mu1 + i * pi) / q1;
            double mu2 = (mu - q1 * mu1) / q2;
            double sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
            if (sigma > maxSigma) {
                maxSigma = sigma;
                maxVal = i;
            }
        }
        return maxVal;
    }

    /**
     * Morphological closing of a 0/1 mask with a {@code k x k} square, in place: the closing of the
     * tissue as a set in the plane, with everything outside the image glass. It differs from
     * OpenCV's {@code morphologyEx(MORPH_CLOSE)} in two places, both on purpose: OpenCV dilates and
     * erodes with the same offsets, which for an even {@code k} (CLAM's 4) moves the whole mask one
     * pixel down and right (checked with OpenCV 5.0: a single pixel at (4,4) closes to (5,5)),
     * whereas here the dilation uses the reflected element so no pixel moves; and OpenCV's erosion
     * counts pixels outside the image as foreground, which fills a narrow strip of glass between
     * tissue and the slide edge, whereas here the image is padded with glass. Elsewhere, and for
     * odd {@code k}, the result is OpenCV's. {@code k <= 1} does nothing.
     */
    static void close(byte[] mask, int width, int height, int k) {
        if (k <= 1) {
            return;
        }
        int pad = k;
        int pw = width + 2 * pad;
        int ph = height + 2 * pad;
        byte[] padded = new byte[pw * ph];
        for (int y = 0; y < height; y++) {
            System.arraycopy(mask, y * width, padded, (y + pad) * pw + pad, width);
        }
        byte[] tmp = new byte[padded.length];
        int anchor = k / 2;
        // dilation by the reflected element: window [x - (k - 1 - anchor), x + anchor]
        anyInWindow(padded, tmp, pw, ph, -(k - 1 - anchor), anchor, true, false);
        anyInWindow(tmp, padded, pw, ph, -(k - 1 - anchor), anchor, false, false);
        // erosion = NOT dilation of NOT, window [x - anchor, x + k - 1 - anchor]; the padding is
        // wider than the window, so the image's own pixels never see beyond it
        anyInWindow(padded, tmp, pw, ph, -anchor, k - 1 - anchor, true, true);
        anyInWindow(tmp, padded, pw, ph, -anchor, k - 1 - anchor, false, false);
        for (int y = 0; y < height; y++) {
            int from = (y + pad) * pw + pad;
            int to = y * width;
            for (int x = 0; x < width; x++) {
                mask[to + x] = (byte) (padded[from + x] ^ 1);
            }
        }
    }

    /**
     * {@code dst[p] = 1} when any pixel of {@code src} (inverted first when {@code invert}) in the
     * window {@code [p + lo, p + hi]} along rows ({@code horizontal}) or columns is 1; pixels
     * outside the image count as 0. A running count makes it linear in the image size. Requires
     * {@code lo <= 0 <= hi}.
     */
    private static void anyInWindow(
            byte[] src,
            byte[] dst,
            int width,
            int height,
            int lo,
            int hi,
            boolean horizontal,
            boolean invert) {
        int flip = invert ? 1 : 0;
        if (horizontal) {
            for (int y = 0; y < height; y++) {
                int base = y * width;
                int count = 0;
                // the window of x = 0 is [lo, hi]; pre-load [lo, hi - 1] clipped to the row
                for (int i = Math.max(0, lo); i <= Math.min(width - 1, hi - 1); i++) {
                    count += src[base + i] ^ flip;
                }
                for (int x = 0; x < width; x++) {
                    int in = x + hi;
                    if (in < width) {
                        count += src[base + in] ^ flip;
                    }
                    int out = x + lo - 1;
                    if (out >= 0) {
                        count -= src[base + out] ^ flip;
                    }
                    dst[base + x] = (byte) (count > 0 ? 1 : 0);
                }
            }
            return;
        }
        // columns are swept a row at a time with one count per column, which reads memory in
        // order instead of striding down each column
        int[] counts = new int[width];
        for (int i = Math.max(0, lo); i <= Math.min(height - 1, hi - 1); i++) {
            int row = i * width;
            for (int x = 0; x < width; x++) {
                counts[x] += src[row + x] ^ flip;
            }
        }
        for (int y = 0; y < height; y++) {
            int in = y + hi;
            if (in < height) {
                int row = in * width;
                for (int x = 0; x < width; x++) {
                    counts[x] += src[row + x] ^ flip;
                }
            }
            int out = y + lo - 1;
            if (out >= 0) {
                int row = out * width;
                for (int x = 0; x < width; x++) {
                    counts[x] -= src[row + x] ^ flip;
                }
            }
            int base = y * width;
            for (int x = 0; x < width; x++) {
                dst[base + x] = (byte) (counts[x] > 0 ? 1 : 0);
            }
        }
    }

    private static int clamp(int v, int size) {
        return v < 0 ? 0 : (v >= size ? size - 1 : v);
    }
}
