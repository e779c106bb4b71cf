package io.slidestream.tiling;

import java.awt.image.BufferedImage;

/**
 * The tissue mask of one slide: a low-resolution 0/1 grid (1 = tissue), the RGB image it was
 * computed from, and how it maps to level 0. Immutable. A summed-area table built once makes {@link
 * #tissueFraction} O(1) for any level-0 rectangle, so planning 15,000 tiles costs microseconds.
 *
 * <p>Mask pixel {@code (mx, my)} covers the level-0 rectangle {@code [mx * scaleX, (mx + 1) *
 * scaleX) x [my * scaleY, (my + 1) * scaleY)}; the scales are the level-0 size divided by the mask
 * size, about {@link TilingConfig#maskDownsample()}.
 */
public final class TissueMask {

    private final int sourceLevel;
    private final int width;
    private final int height;
    private final double scaleX;
    private final double scaleY;
    private final byte[] mask;
    private final int[] image;
    private final int otsuThreshold;
    private final int threshold;
    private final long tissuePixels;

    /**
     * {@code sums[r * (width + 1) + c]} = tissue pixels in rows {@code < r}, columns {@code < c}.
     */
    private final int[] sums;

    /**
     * Takes ownership of {@code mask} (0/1 values) and {@code image} (packed RGB, same size).
     *
     * @param otsuThreshold the saturation threshold Otsu's method chose
     * @param threshold the threshold used: pixels with saturation above it are tissue
     */
    TissueMask(
            int sourceLevel,
            int width,
            int height,
            double scaleX,
            double scaleY,
            byte[] mask,
            int[] image,
            int otsuThreshold,
            int threshold) {
        if (width < 1
                || height < 1
                || mask.length != width * height
                || image.length != mask.length) {
            throw new IllegalArgumentException(
                    "mask " + width + "x" + height + " does not match its arrays");
        }
        this.sourceLevel = sourceLevel;
        this.width = width;
        this.height = height;
        this.scaleX = scaleX;
        this.scaleY = scaleY;
        this.mask = mask;
        this.image = image;
        this.otsuThreshold = otsuThreshold;
        this.threshold = threshold;
        int stride = width + 1;
        this.sums = new int[stride * (height + 1)];
        long total = 0;
        for (int y = 0; y < height; y++) {
            int rowSum = 0;
            int up = y * stride;
            int here = up + stride;
            for (int x = 0; x < width; x++) {
                rowSum += mask[y * width + x];
                sums[here + x + 1] = sums[up + x + 1] + rowSum;
            }
            total += rowSum;
        }
        this.tissuePixels = total;
    }

    /** The pyramid level the mask image was read from. */
    public int sourceLevel() {
        return sourceLevel;
    }

    /** Mask width in mask pixels. */
    public int width() {
        return width;
    }

    /** Mask height in mask pixels. */
    public int height() {
        return height;
    }

    /** Level-0 pixels per mask pixel along x. */
    public double scaleX() {
        return scaleX;
    }

    /** Level-0 pixels per mask pixel along y. */
    public double scaleY() {
        return scaleY;
    }

    /** Whether mask pixel {@code (mx, my)} is tissue. */
    public boolean isTissue(int mx, int my) {
        return mask[my * width + mx] != 0;
    }

    /** Number of tissue pixels in the mask. */
    public long tissuePixelCount() {
        return tissuePixels;
    }

    /** The saturation threshold Otsu's method chose on the median-filtered saturation. */
    public int otsuThreshold() {
        return otsuThreshold;
    }

    /**
     * The saturation threshold used: Otsu's, raised to the configured minimum when lower.
     * Saturations above it are tissue.
     */
    public int saturationThreshold() {
        return threshold;
    }

    /** Packed {@code 0x00RRGGBB} of the mask image at {@code (mx, my)}. */
    public int imageRgb(int mx, int my) {
        return image[my * width + mx];
    }

    /**
     * The median brightness (HSV value, {@code max(R, G, B)}, 0..255) of the mask image.
     * Brightfield slides sit on bright glass (about 230 and up, tissue included rarely below 150);
     * a dark median means a fluorescence or dark-field scan, where the saturation threshold also
     * takes the background for tissue.
     */
    public int medianBrightness() {
        int[] histogram = new int[256];
        for (int p : image) {
            histogram[Math.max((p >>> 16) & 0xFF, Math.max((p >>> 8) & 0xFF, p & 0xFF))]++;
        }
        int half = (image.length + 1) / 2;
        int seen = 0;
        for (int v = 0; v < 256; v++) {
            seen += histogram[v];
            if (seen >= half) {
                return v;
            }
        }
        return 255;
    }

    /** A copy of the low-resolution RGB image the mask was computed from. */
    public BufferedImage image() {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, width, height, image, 0, width);
        return out;
    }

    /**
     * The fraction (0..1) of the level-0 rectangle {@code [x, x + w) x [y, y + h)} that the mask
     * covers, weighting partly covered mask pixels by the part inside the rectangle. Parts outside
     * the slide count as no tissue. O(1).
     */
    public double tissueFraction(long x, long y, long w, long h) {
        if (w <= 0 || h <= 0) {
            return 0;
        }
        double x0 = clip(x / scaleX, width);
        double x1 = clip((x + w) / scaleX, width);
        double y0 = clip(y / scaleY, height);
        double y1 = clip((y + h) / scaleY, height);
        double covered = integral(x1, y1) - integral(x0, y1) - integral(x1, y0) + integral(x0, y0);
        double area = (w / scaleX) * (h / scaleY);
        double f = covered / area;
        // the four-corner sum can leave a few ulps of negative or excess
        return f < 0 ? 0 : (f > 1 ? 1 : f);
    }

    /** Tissue area in {@code [0, X) x [0, Y)} (mask pixels; X, Y real, within the mask). */
    private double integral(double fx, double fy) {
        int ix = Math.min((int) fx, width - 1);
        int iy = Math.min((int) fy, height - 1);
        double dx = fx - ix;
        double dy = fy - iy;
        int stride = width + 1;
        int s00 = sums[iy * stride + ix];
        int s01 = sums[iy * stride + ix + 1];
        int s10 = sums[(iy + 1) * stride + ix];
        return s00 + dx * (s01 - s00) + dy * (s10 - s00) + dx * dy * mask[iy * width + ix];
    }

    private static double clip(double v, int max) {
        return v < 0 ? 0 : (v > max ? max : v);
    }

    @Override
    public String toString() {
        return String.format(
                "TissueMask{%dx%d from level %d, scale %.3fx%.3f, saturation > %d (otsu %d),"
                        + " tissue %d px}",
                width, height, sourceLevel, scaleX, scaleY, threshold, otsuThreshold, tissuePixels);
    }
}
