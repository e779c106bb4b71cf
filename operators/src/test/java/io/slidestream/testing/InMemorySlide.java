package io.slidestream.testing;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.SlideSource;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A multi-level {@link SlideSource} painted on demand, for tests that must know the exact tissue
 * layout: glass-white background with H&E-like pink (eosin) and purple (haematoxylin) rectangles
 * placed in level-0 pixels, plus seeded per-pixel noise. No pixels are stored, so a 40,000 x 40,000
 * slide costs nothing until it is read, and reading is deterministic whatever the order.
 *
 * <p>Level pixel {@code (px, py)} of a level with downsample {@code d} takes the colour of the
 * level-0 point {@code ((px + 0.5) d, (py + 0.5) d)}: rectangles aligned to multiples of {@code d}
 * appear with sharp, exact edges at that level. Level sizes are {@code ceil(level0 / d)}; level
 * pixels outside that size read as white, as OpenSlide returns transparent areas. Counts reads and
 * pixels read, so tests can check how a component reads.
 */
public final class InMemorySlide implements SlideSource {

    /** Slide glass: near white, almost no saturation. */
    public static final int GLASS = 0xF3F1EF;

    /** Eosin-stained stroma and cytoplasm: pink. */
    public static final int EOSIN = 0xE6A0C8;

    /** Haematoxylin-stained nuclei-dense tissue: purple. */
    public static final int HAEMATOXYLIN = 0x784BA0;

    private final long width;
    private final long height;
    private final double[] downsamples;
    private final long[] levelWidths;
    private final long[] levelHeights;
    private final long[] rects; // x, y, w, h per rectangle, level-0
    private final int[] rectColours;
    private final int background;
    private final int noise;
    private final long seed;
    private final Map<String, String> properties;
    private final boolean failReads;
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong pixelsRead = new AtomicLong();
    private final AtomicLong largestRead = new AtomicLong();
    private volatile boolean closed;

    private InMemorySlide(Builder b) {
        this.width = b.width;
        this.height = b.height;
        this.downsamples = b.downsamples.clone();
        this.levelWidths = new long[downsamples.length];
        this.levelHeights = new long[downsamples.length];
        for (int i = 0; i < downsamples.length; i++) {
            levelWidths[i] = (long) Math.ceil(width / downsamples[i]);
            levelHeights[i] = (long) Math.ceil(height / downsamples[i]);
        }
        this.rects = new long[b.rects.size() * 4];
        this.rectColours = new int[b.rects.size()];
        for (int i = 0; i < b.rects.size(); i++) {
            long[] r = b.rects.get(i);
            System.arraycopy(r, 0, rects, i * 4, 4);
            rectColours[i] = (int) r[4];
        }
        this.background = b.background;
        this.noise = b.noise;
        this.seed = b.seed;
        this.failReads = b.failReads;
        Map<String, String> props = new HashMap<>();
        props.put("openslide.vendor", "in-memory");
        props.put("openslide.level-count", Integer.toString(downsamples.length));
        if (b.mpp > 0) {
            props.put("openslide.mpp-x", Double.toString(b.mpp));
            props.put("openslide.mpp-y", Double.toString(b.mpp));
        }
        this.properties = Map.copyOf(props);
    }

    /** A slide of {@code width x height} level-0 pixels, levels {@code 1, 4, 16, 64} by default. */
    public static Builder builder(long width, long height) {
        return new Builder(width, height);
    }

    @Override
    public String vendor() {
        return "in-memory";
    }

    @Override
    public int levelCount() {
        return downsamples.length;
    }

    @Override
    public long levelWidth(int level) {
        return levelWidths[level];
    }

    @Override
    public long levelHeight(int level) {
        return levelHeights[level];
    }

    @Override
    public double levelDownsample(int level) {
        return downsamples[level];
    }

    @Override
    public Map<String, String> properties() {
        return properties;
    }

    @Override
    public void readRegion(int[] dest, long x, long y, int level, int w, int h) {
        if (closed) {
            throw new IllegalStateException("slide is closed");
        }
        Objects.checkIndex(level, downsamples.length);
        if (w < 0 || h < 0 || dest.length < (long) w * h) {
            throw new IllegalArgumentException(
                    "bad read " + w + "x" + h + " into " + dest.length + " values");
        }
        if (failReads) {
            throw new SlideStreamException(
                    ErrorCode.CORRUPT_SLIDE, "in-memory slide configured to fail every read");
        }
        reads.incrementAndGet();
        long n = (long) w * h;
        pixelsRead.addAndGet(n);
        largestRead.accumulateAndGet(n, Math::max);
        double d = downsamples[level];
        long lx = (long) Math.floor(x / d);
        long ly = (long) Math.floor(y / d);
        for (int j = 0; j < h; j++) {
            long py = ly + j;
            for (int i = 0; i < w; i++) {
                long px = lx + i;
                dest[j * w + i] = pixel(level, px, py);
            }
        }
    }

    @Override
    public BufferedImage readRegionImage(long x, long y, int level, int w, int h) {
        int[] rgb = new int[w * h];
        readRegion(rgb, x, y, level, w, h);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    @Override
    public void close() {
        closed = true;
    }

    /** Number of {@code readRegion} calls so far. */
    public long readCount() {
        return reads.get();
    }

    /** Total pixels returned by {@code readRegion} so far. */
    public long pixelsRead() {
        return pixelsRead.get();
    }

    /** Pixels of the largest single read so far. */
    public long largestRead() {
        return largestRead.get();
    }

    private int pixel(int level, long px, long py) {
        if (px < 0 || py < 0 || px >= levelWidths[level] || py >= levelHeights[level]) {
            return 0xFFFFFF;
        }
        double d = downsamples[level];
        long x0 = (long) ((px + 0.5) * d);
        long y0 = (long) ((py + 0.5) * d);
        int base = background;
        if (x0 < width && y0 < height) {
            for (int r = rectColours.length - 1; r >= 0; r--) {
                int o = r * 4;
                if (x0 >= rects[o]
                        && x0 < rects[o] + rects[o + 2]
                        && y0 >= rects[o + 1]
                        && y0 < rects[o + 1] + rects[o + 3]) {
                    base = rectColours[r];
                    break;
                }
            }
        }
        if (noise == 0) {
            return base;
        }
        long hash = mix(seed ^ (level * 0x9E3779B97F4A7C15L) ^ (px * 0xC2B2AE3D27D4EB4FL) ^ py);
        int span = 2 * noise + 1;
        int r = channel(((base >>> 16) & 0xFF) + (int) ((hash & 0xFFFF) % span) - noise);
        int g = channel(((base >>> 8) & 0xFF) + (int) (((hash >>> 16) & 0xFFFF) % span) - noise);
        int b = channel((base & 0xFF) + (int) (((hash >>> 32) & 0xFFFF) % span) - noise);
        return (r << 16) | (g << 8) | b;
    }

    /** SplitMix64 finaliser: a well-mixed hash of the pixel's coordinates and the seed. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static int channel(int v) {
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    /** Describes the slide; {@link #build()} checks it. */
    public static final class Builder {
        private final long width;
        private final long height;
        private double[] downsamples = {1, 4, 16, 64};
        private final List<long[]> rects = new ArrayList<>();
        private int background = GLASS;
        private int noise = 3;
        private long seed = 1;
        private double mpp = 0;
        private boolean failReads;

        private Builder(long width, long height) {
            if (width < 1 || height < 1) {
                throw new IllegalArgumentException("slide size must be positive");
            }
            this.width = width;
            this.height = height;
        }

        /** Level downsamples, level 0 first (must be 1 and increasing). */
        public Builder downsamples(double... downsamples) {
            this.downsamples = downsamples.clone();
            return this;
        }

        /** A tissue rectangle in level-0 pixels; later rectangles paint over earlier ones. */
        public Builder tissue(long x, long y, long w, long h, int rgb) {
            rects.add(new long[] {x, y, w, h, rgb});
            return this;
        }

        public Builder background(int rgb) {
            this.background = rgb;
            return this;
        }

        /** Per-channel uniform noise amplitude ({@code +-noise}); 0 for flat colours. */
        public Builder noise(int noise) {
            this.noise = noise;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Puts {@code openslide.mpp-x/y} in the properties. */
        public Builder mpp(double mpp) {
            this.mpp = mpp;
            return this;
        }

        /**
         * Every read fails with {@code CORRUPT_SLIDE}, like a slide that opens but cannot be read.
         */
        public Builder failReads() {
            this.failReads = true;
            return this;
        }

        public InMemorySlide build() {
            if (downsamples.length == 0 || downsamples[0] != 1) {
                throw new IllegalArgumentException("level 0 must have downsample 1");
            }
            for (int i = 1; i < downsamples.length; i++) {
                if (!(downsamples[i] > downsamples[i - 1])) {
                    throw new IllegalArgumentException("downsamples must increase");
                }
            }
            if (noise < 0 || noise > 127) {
                throw new IllegalArgumentException("noise must be 0..127: " + noise);
            }
            return new InMemorySlide(this);
        }
    }
}
