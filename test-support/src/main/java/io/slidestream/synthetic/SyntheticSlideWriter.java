package io.slidestream.synthetic;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Writes synthetic whole-slide images that OpenSlide 3.4.1 reads: a pyramidal, tiled,
 * JPEG-compressed TIFF, either plain ({@link Style#GENERIC_TIFF}: vendor {@code generic-tiff}, MPP
 * from the TIFF resolution tags) or Aperio-style ({@link Style#APERIO}: vendor {@code aperio}, MPP
 * and magnification in the ImageDescription). Tissue is painted in known rectangles (level-0
 * pixels) with an H&amp;E-like texture (pink stroma with purple nuclei, strongly saturated, seeded
 * noise); everything else is a near-white, low-saturation background, so a test can state exactly
 * which tiles hold tissue.
 *
 * <p>Streams tile by tile with constant memory (the tile offset tables aside): each tile is
 * rendered from a procedural texture sampled at level-0 coordinates, so every pyramid level is
 * rendered directly (downsample 4 between levels, as scanners do) without holding a full level.
 * Tiles are rendered and JPEG-encoded on a few worker threads and written in order. Tiles that hold
 * only background are identical within a level and stored once, all referencing the same bytes.
 * Output is deterministic for a given configuration and seed.
 */
public final class SyntheticSlideWriter {

    /** Which OpenSlide driver the file is written for. */
    public enum Style {
        /** Plain tiled TIFF, XResolution/YResolution in pixels per centimeter. */
        GENERIC_TIFF,
        /** Aperio SVS-like: ImageDescription {@code Aperio Image Library ...|MPP = ..}. */
        APERIO
    }

    /** A tissue rectangle in level-0 pixels. */
    public record Region(long x, long y, long width, long height) {
        public Region {
            if (x < 0 || y < 0 || width <= 0 || height <= 0) {
                throw new IllegalArgumentException(
                        "tissue region needs x, y >= 0 and a positive size, got " + this);
            }
        }

        boolean intersects(long x0, long y0, long x1, long y1) {
            return x < x1 && x + width > x0 && y < y1 && y + height > y0;
        }

        boolean contains(long px, long py) {
            return px >= x && px < x + width && py >= y && py < y + height;
        }
    }

    /** What was written. */
    public record Result(
            Path file, long bytes, int levels, long tissueTilesAtLevel0, long elapsedNanos) {}

    /** Background colour (near white, saturation about 0.02). */
    static final int BACKGROUND_R = 242;

    static final int BACKGROUND_G = 240;
    static final int BACKGROUND_B = 244;

    private final long width;
    private final long height;
    private final double mpp;
    private final int tileSize;
    private final int levels;
    private final Style style;
    private final long seed;
    private final List<Region> tissue;
    private final List<Region> lesions;
    private final float jpegQuality;
    private final int threads;

    private SyntheticSlideWriter(Builder b) {
        this.width = b.width;
        this.height = b.height;
        this.mpp = b.mpp;
        this.tileSize = b.tileSize;
        this.levels = b.levels > 0 ? b.levels : defaultLevels(b.width, b.height);
        this.style = b.style;
        this.seed = b.seed;
        this.tissue = List.copyOf(b.tissue);
        this.lesions = List.copyOf(b.lesions);
        this.jpegQuality = b.jpegQuality;
        this.threads = b.threads;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A small layout for demos: two large tissue pieces and a small fragment, about 30% of the
     * slide area, none touching the edges.
     */
    public static List<Region> demoLayout(long width, long height) {
        return List.of(
                new Region(width * 8 / 100, height * 12 / 100, width * 38 / 100, height * 50 / 100),
                new Region(
                        width * 55 / 100, height * 30 / 100, width * 32 / 100, height * 45 / 100),
                new Region(
                        width * 20 / 100, height * 74 / 100, width * 14 / 100, height * 12 / 100));
    }

    /** Levels until the coarsest is at most 1024 px on its longer side. */
    static int defaultLevels(long width, long height) {
        int n = 1;
        long side = Math.max(width, height);
        while (side > 1024) {
            side = ceilDiv(side, 4);
            n++;
        }
        return n;
    }

    public long width() {
        return width;
    }

    public long height() {
        return height;
    }

    public int levels() {
        return levels;
    }

    public List<Region> tissue() {
        return tissue;
    }

    /** The lesion rectangles (inside tissue), in level-0 pixels. */
    public List<Region> lesions() {
        return lesions;
    }

    /** Level-0 tiles ({@code tileSize} grid) that hold any tissue. */
    public long tissueTilesAtLevel0() {
        long count = 0;
        long cols = ceilDiv(width, tileSize);
        long rows = ceilDiv(height, tileSize);
        for (long ty = 0; ty < rows; ty++) {
            for (long tx = 0; tx < cols; tx++) {
                if (touchesTissue(tx * tileSize, ty * tileSize, 1)) {
                    count++;
                }
            }
        }
        return count;
    }

    /** Writes the slide to {@code file} (replacing it). */
    public Result write(Path file) throws IOException {
        long start = System.nanoTime();
        ExecutorService pool =
                Executors.newFixedThreadPool(
                        threads,
                        r -> {
                            Thread t = new Thread(r, "synthetic-slide-tile");
                            t.setDaemon(true);
                            return t;
                        });
        boolean complete = false;
        try (TiledTiffWriter tiff = new TiledTiffWriter(file)) {
            for (int level = 0; level < levels; level++) {
                writeLevel(tiff, level, pool);
            }
            complete = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing " + file);
        } finally {
            pool.shutdownNow();
            if (!complete) {
                // A partial pyramid would still open; leave no such file behind.
                deleteQuietly(file);
            }
        }
        return new Result(
                file, Files.size(file), levels, tissueTilesAtLevel0(), System.nanoTime() - start);
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // The original failure is what the caller needs to see.
        }
    }

    private void writeLevel(TiledTiffWriter tiff, int level, ExecutorService pool)
            throws IOException, InterruptedException {
        long downsample = 1L << (2 * level);
        long levelWidth = ceilDiv(width, downsample);
        long levelHeight = ceilDiv(height, downsample);
        int cols = Math.toIntExact(ceilDiv(levelWidth, tileSize));
        int rows = Math.toIntExact(ceilDiv(levelHeight, tileSize));
        long[] offsets = new long[cols * rows];
        long[] counts = new long[cols * rows];

        // Background tiles are identical within a level: encode and store one copy.
        byte[] background = TileRenderer.get(tileSize, jpegQuality).render(this, -1, -1, 1);
        long backgroundOffset = -1;

        // Bounded window of tiles in flight keeps memory constant and the output in order.
        int window = threads * 8;
        ArrayDeque<Future<byte[]>> inFlight = new ArrayDeque<>();
        ArrayDeque<Integer> inFlightIndex = new ArrayDeque<>();
        for (int index = 0; index < offsets.length; index++) {
            long x0 = (long) (index % cols) * tileSize * downsample;
            long y0 = (long) (index / cols) * tileSize * downsample;
            if (!touchesTissue(x0, y0, downsample)) {
                if (backgroundOffset < 0) {
                    backgroundOffset = tiff.writeTile(background, background.length);
                }
                offsets[index] = backgroundOffset;
                counts[index] = background.length;
                continue;
            }
            inFlight.add(
                    pool.submit(
                            () ->
                                    TileRenderer.get(tileSize, jpegQuality)
                                            .render(this, x0, y0, downsample)));
            inFlightIndex.add(index);
            if (inFlight.size() >= window) {
                drainOne(tiff, inFlight, inFlightIndex, offsets, counts);
            }
        }
        while (!inFlight.isEmpty()) {
            drainOne(tiff, inFlight, inFlightIndex, offsets, counts);
        }
        tiff.addDirectory(
                new TiledTiffWriter.Directory(
                        levelWidth,
                        levelHeight,
                        tileSize,
                        offsets,
                        counts,
                        level > 0,
                        level == 0 ? description(levelWidth, levelHeight) : null,
                        style == Style.GENERIC_TIFF ? 10_000.0 / (mpp * downsample) : 0));
    }

    private static void drainOne(
            TiledTiffWriter tiff,
            ArrayDeque<Future<byte[]>> inFlight,
            ArrayDeque<Integer> inFlightIndex,
            long[] offsets,
            long[] counts)
            throws IOException, InterruptedException {
        byte[] jpeg;
        try {
            jpeg = inFlight.poll().get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("rendering a synthetic tile failed", e.getCause());
        }
        int index = inFlightIndex.poll();
        offsets[index] = tiff.writeTile(jpeg, jpeg.length);
        counts[index] = jpeg.length;
    }

    private String description(long levelWidth, long levelHeight) {
        if (style == Style.APERIO) {
            // OpenSlide's aperio driver needs the "Aperio" prefix and reads the |key = value
            // pairs after the first '|': MPP -> openslide.mpp-x/y, AppMag -> objective power.
            return String.format(
                    Locale.ROOT,
                    "Aperio Image Library v12.0.15 SlideStream synthetic\r\n"
                            + "%dx%d (%dx%d) JPEG/RGB Q=%d|AppMag = %s|MPP = %s|Seed = %d",
                    levelWidth,
                    levelHeight,
                    tileSize,
                    tileSize,
                    Math.round(jpegQuality * 100),
                    number(10.0 / mpp),
                    number(mpp),
                    seed);
        }
        return String.format(
                Locale.ROOT,
                "SlideStream synthetic slide %dx%d, mpp %s, seed %d",
                levelWidth,
                levelHeight,
                number(mpp),
                seed);
    }

    private static String number(double value) {
        String s = String.format(Locale.ROOT, "%.6f", value);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /** Whether the level tile starting at level-0 {@code (x0, y0)} samples any tissue pixel. */
    private boolean touchesTissue(long x0, long y0, long downsample) {
        long x1 = Math.min(x0 + tileSize * downsample, width);
        long y1 = Math.min(y0 + tileSize * downsample, height);
        for (Region r : tissue) {
            if (r.intersects(x0, y0, x1, y1)) {
                return true;
            }
        }
        return false;
    }

    // ---- texture -------------------------------------------------------------------------

    /**
     * Paints one tile into a BGR byte raster. {@code x0 < 0} paints pure background. Level pixel
     * {@code i} samples level-0 coordinate {@code x0 + i * downsample + downsample / 2}.
     */
    void paint(byte[] bgr, long x0, long y0, long downsample) {
        int size = tileSize;
        int seedBits = (int) (seed ^ (seed >>> 32));
        List<Region> here = new ArrayList<>();
        if (x0 >= 0) {
            for (Region r : tissue) {
                if (r.intersects(x0, y0, x0 + size * downsample, y0 + size * downsample)) {
                    here.add(r);
                }
            }
        }
        Region[] regions = here.toArray(new Region[0]);
        long half = downsample / 2;
        int p = 0;
        for (int j = 0; j < size; j++) {
            long py = y0 + j * downsample + half;
            for (int i = 0; i < size; i++) {
                long px = x0 + i * downsample + half;
                boolean inTissue = false;
                if (px < width && py < height) {
                    for (Region r : regions) {
                        if (r.contains(px, py)) {
                            inTissue = true;
                            break;
                        }
                    }
                }
                int r;
                int g;
                int b;
                if (inTissue) {
                    int ix = (int) px;
                    int iy = (int) py;
                    boolean lesion = inLesion(px, py);
                    // 16 px cells; about a third hold a round purple nucleus on pink stroma. A
                    // lesion crowds them: 10 px cells, nine in ten with a darker, larger nucleus.
                    int cellPx = lesion ? 10 : 16;
                    int cell = mix(ix / cellPx, iy / cellPx, seedBits);
                    boolean nucleus = false;
                    if ((cell & 0xFF) < (lesion ? 230 : 90)) {
                        int dx = ix % cellPx - cellPx / 2;
                        int dy = iy % cellPx - cellPx / 2;
                        int radius = lesion ? 4 : 4 + ((cell >>> 8) & 3);
                        nucleus = dx * dx + dy * dy <= radius * radius;
                    }
                    // +-8 grain: visible texture, but not so much entropy that JPEG tiles balloon.
                    int noise = (mix(ix, iy, ~seedBits) & 15) - 8;
                    if (nucleus && lesion) {
                        r = 70 + noise;
                        g = 25 + noise / 2;
                        b = 110 + noise;
                    } else if (nucleus) {
                        r = 115 + noise;
                        g = 55 + noise / 2;
                        b = 160 + noise;
                    } else {
                        r = 228 + noise / 2;
                        g = 140 + noise;
                        b = 190 + noise / 2;
                    }
                } else {
                    // Periodic in the tile so every background-only tile is identical.
                    int noise = (mix(i, j, 0x5bd1e995) & 3) - 1;
                    r = BACKGROUND_R + noise;
                    g = BACKGROUND_G + noise;
                    b = BACKGROUND_B + noise;
                }
                bgr[p++] = (byte) b;
                bgr[p++] = (byte) g;
                bgr[p++] = (byte) r;
            }
        }
    }

    private boolean inLesion(long px, long py) {
        for (Region r : lesions) {
            if (r.contains(px, py)) {
                return true;
            }
        }
        return false;
    }

    /** A fast integer hash (murmur3 finaliser) of two coordinates and a seed. */
    private static int mix(int x, int y, int seed) {
        int h = seed ^ (x * 0x27d4eb2d) ^ (y * 0x165667b1);
        h ^= h >>> 15;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Per-thread tile raster and JPEG encoder, reused for every tile the thread renders. */
    private static final class TileRenderer {
        private static final ThreadLocal<TileRenderer> CURRENT = new ThreadLocal<>();

        private final int tileSize;
        private final float quality;
        private final BufferedImage image;
        private final byte[] bgr;
        private final ImageWriter writer;
        private final ImageWriteParam param;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);

        private TileRenderer(int tileSize, float quality) {
            this.tileSize = tileSize;
            this.quality = quality;
            this.image = new BufferedImage(tileSize, tileSize, BufferedImage.TYPE_3BYTE_BGR);
            this.bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            this.writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            this.param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
        }

        static TileRenderer get(int tileSize, float quality) {
            TileRenderer r = CURRENT.get();
            if (r == null || r.tileSize != tileSize || r.quality != quality) {
                r = new TileRenderer(tileSize, quality);
                CURRENT.set(r);
            }
            return r;
        }

        byte[] render(SyntheticSlideWriter slide, long x0, long y0, long downsample) {
            slide.paint(bgr, x0, y0, downsample);
            bytes.reset();
            try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, null), param);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }
    }

    /** Configuration of a synthetic slide; {@link #build()} checks it. */
    public static final class Builder {
        private long width = -1;
        private long height = -1;
        private double mpp = 0.5;
        private int tileSize = 256;
        private int levels = 0;
        private Style style = Style.GENERIC_TIFF;
        private long seed = 1;
        private final List<Region> tissue = new ArrayList<>();
        private final List<Region> lesions = new ArrayList<>();
        private float jpegQuality = 0.85f;
        private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

        private Builder() {}

        /** Level-0 size in pixels (required). */
        public Builder size(long width, long height) {
            this.width = width;
            this.height = height;
            return this;
        }

        /** Microns per pixel at level 0 (default 0.5, a 20x scan). */
        public Builder mpp(double mpp) {
            this.mpp = mpp;
            return this;
        }

        /** TIFF tile size in pixels, a multiple of 16 (default 256). */
        public Builder tileSize(int tileSize) {
            this.tileSize = tileSize;
            return this;
        }

        /**
         * Pyramid levels, downsample 4 between them (default: until the coarsest level is about
         * 1024 px or less).
         */
        public Builder levels(int levels) {
            this.levels = levels;
            return this;
        }

        public Builder style(Style style) {
            this.style = style;
            return this;
        }

        /** Seed of the tissue texture noise (default 1). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Adds a tissue rectangle in level-0 pixels. */
        public Builder tissue(long x, long y, long width, long height) {
            tissue.add(new Region(x, y, width, height));
            return this;
        }

        public Builder tissue(List<Region> regions) {
            tissue.addAll(regions);
            return this;
        }

        /**
         * Adds a lesion: inside tissue, the rectangle is painted with crowded, dark nuclei (a
         * carcinoma-like focus) instead of the normal texture. For heads that must find it.
         */
        public Builder lesion(long x, long y, long width, long height) {
            lesions.add(new Region(x, y, width, height));
            return this;
        }

        /** No tissue at all: a background-only slide (for {@code NO_TISSUE} tests). */
        public Builder noTissue() {
            tissue.clear();
            return this;
        }

        /** JPEG quality 0..1 (default 0.85). */
        public Builder jpegQuality(float quality) {
            this.jpegQuality = quality;
            return this;
        }

        /** Threads that render and encode tiles (default: up to 4). */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public SyntheticSlideWriter build() {
            if (width <= 0 || height <= 0) {
                throw new IllegalArgumentException(
                        "synthetic slide size must be set and positive: call size(width, height),"
                                + " got "
                                + width
                                + "x"
                                + height);
            }
            if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "synthetic slide size " + width + "x" + height + " is too large");
            }
            if (!(mpp > 0) || Double.isInfinite(mpp)) {
                throw new IllegalArgumentException("mpp must be positive, got " + mpp);
            }
            if (tileSize < 16 || tileSize % 16 != 0 || tileSize > 4096) {
                throw new IllegalArgumentException(
                        "TIFF tile size must be a multiple of 16 between 16 and 4096, got "
                                + tileSize);
            }
            if (levels < 0 || levels > 12) {
                throw new IllegalArgumentException(
                        "levels must be between 1 and 12 (0 for the default), got " + levels);
            }
            if (!(jpegQuality > 0 && jpegQuality <= 1)) {
                throw new IllegalArgumentException(
                        "JPEG quality must be in (0, 1], got " + jpegQuality);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            if (style == null) {
                throw new IllegalArgumentException("style must not be null");
            }
            for (Region r : tissue) {
                if (r.x() + r.width() > width || r.y() + r.height() > height) {
                    throw new IllegalArgumentException(
                            "tissue region "
                                    + r
                                    + " reaches outside the "
                                    + width
                                    + "x"
                                    + height
                                    + " slide");
                }
            }
            return new SyntheticSlideWriter(this);
        }
    }
}
