package io.slidestream.slide;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One open whole-slide image, read through the native OpenSlide 3.4.1 library. The API follows
 * openslide-java ({@code detectVendor}, levels, properties, associated images, {@code readRegion})
 * so that a later switch to the official binding is a rename.
 *
 * <p><b>State.</b> Levels, properties and associated image names are read once when the slide is
 * opened and kept immutable. The native handle is shared by all threads: every OpenSlide function
 * but {@code openslide_close} is thread-safe, so reads run concurrently under the read side of a
 * read/write lock and {@link #close()} takes the write side: it waits for reads in flight, and a
 * read that starts after close fails with {@link IllegalStateException}.
 *
 * <p><b>Failure.</b> A damaged slide puts the handle into a sticky error state instead of failing
 * the call, so {@code openslide_get_error} is checked after every call; an error becomes a {@link
 * SlideStreamException} with {@link ErrorCode#CORRUPT_SLIDE} and OpenSlide's message. Opening with
 * path policy (allowed roots, not found, empty files) is {@link SlideOpener}'s job.
 *
 * <p><b>Speed.</b> {@link #readRegion} is the hot path. Opened with {@link SlideReader#AUTO}, the
 * JPEG-tiled levels of Aperio and generic TIFF slides are decoded directly by {@link
 * DirectTiffReader}, pixel-identical and several times cheaper than OpenSlide's compositing; every
 * other read goes through OpenSlide, which writes into a per-thread native buffer that is reused
 * across calls (no native allocation per tile), one bulk copy brings the pixels into the caller's
 * {@code int[]}, and the premultiplied-ARGB-to-RGB conversion runs in place.
 */
public final class OpenSlide implements SlideSource {

    /**
     * Reads up to this many pixels (4 MiB, a 1024 x 1024 region) reuse the per-thread native
     * buffer; larger reads (thumbnails) get a temporary buffer so no thread keeps a huge one.
     */
    private static final int MAX_CACHED_BUFFER_PIXELS = 1024 * 1024;

    private static final ThreadLocal<Memory> READ_BUFFER = new ThreadLocal<>();

    private final OpenSlideLibrary lib;
    private final Path path;
    private final Pointer osr;
    private final String vendor;
    private final long[] widths;
    private final long[] heights;
    private final double[] downsamples;
    private final Map<String, String> properties;
    private final Map<String, long[]> associatedImages;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Lock readLock = lock.readLock();
    private final Lock writeLock = lock.writeLock();

    /** Guarded by {@link #lock}: written under the write lock, read under either. */
    private boolean closed;

    /** The direct JPEG tile reader, or null: set once in {@link #open(Path, SlideReader)}. */
    private DirectTiffReader direct;

    private final LongAdder directReads = new LongAdder();
    private final LongAdder openSlideReads = new LongAdder();

    /**
     * Opens a slide without any path policy. Prefer {@link SlideOpener}, which also maps missing
     * files, disallowed paths and truncated files to their codes.
     *
     * @throws SlideStreamException {@code UNSUPPORTED_FORMAT} when no OpenSlide driver recognises
     *     the file, {@code CORRUPT_SLIDE} when a driver recognises it but opening fails, {@code
     *     OPENSLIDE_UNAVAILABLE} when the native library is missing
     */
    public static OpenSlide open(Path path) {
        return open(path, SlideReader.OPENSLIDE);
    }

    /**
     * Opens a slide as {@link #open(Path)}, reading regions as {@code reader} says: with {@link
     * SlideReader#AUTO} the levels {@link DirectTiffReader} can reproduce exactly are decoded
     * directly.
     */
    public static OpenSlide open(Path path, SlideReader reader) {
        return open(path, reader, DirectTiffReader.CACHE_BYTES);
    }

    /** {@link #open(Path, SlideReader)} with a direct reader's tile cache of this size (tests). */
    static OpenSlide open(Path path, SlideReader reader, long tileCacheBytes) {
        OpenSlideLibrary lib = OpenSlideLibrary.instance();
        String file = path.toString();
        String vendor = lib.openslide_detect_vendor(file);
        if (vendor == null) {
            throw new SlideStreamException(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    String.format(
                            "%s is not a slide format that OpenSlide %s reads (Aperio .svs,"
                                    + " Hamamatsu .ndpi/.vms/.vmu, Leica .scn, MIRAX .mrxs, Sakura"
                                    + " .svslide, Trestle .tif, Ventana .bif/.tif, tiled pyramidal"
                                    + " TIFF); convert it to one of these (e.g. a tiled pyramidal"
                                    + " TIFF) or check that the right file was sent",
                            path, libraryVersion()));
        }
        Pointer osr = lib.openslide_open(file);
        if (osr == null) {
            throw new SlideStreamException(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    String.format(
                            "%s was detected as '%s' but OpenSlide %s could not open it; check"
                                    + " that the file and its companion files are complete",
                            path, vendor, libraryVersion()));
        }
        OpenSlide slide = new OpenSlide(lib, path, osr, vendor);
        if (reader == SlideReader.AUTO) {
            slide.direct = DirectTiffReader.open(path, slide, tileCacheBytes);
        }
        return slide;
    }

    /** The OpenSlide vendor of a file, or {@code null} when no driver recognises it. */
    public static String detectVendor(Path path) {
        return OpenSlideLibrary.instance().openslide_detect_vendor(path.toString());
    }

    /** The version of the loaded native library, e.g. {@code 3.4.1}. */
    public static String libraryVersion() {
        return OpenSlideLibrary.instance().openslide_get_version();
    }

    private OpenSlide(OpenSlideLibrary lib, Path path, Pointer osr, String vendor) {
        this.lib = lib;
        this.path = path;
        this.osr = osr;
        this.vendor = vendor;
        try {
            checkError("open the slide");
            int count = lib.openslide_get_level_count(osr);
            checkError("read the level count");
            if (count < 1) {
                throw corrupt("OpenSlide reported " + count + " levels");
            }
            widths = new long[count];
            heights = new long[count];
            downsamples = new double[count];
            LongByReference w = new LongByReference();
            LongByReference h = new LongByReference();
            for (int level = 0; level < count; level++) {
                lib.openslide_get_level_dimensions(osr, level, w, h);
                downsamples[level] = lib.openslide_get_level_downsample(osr, level);
                checkError("read level " + level);
                widths[level] = w.getValue();
                heights[level] = h.getValue();
            }
            Map<String, String> props = new TreeMap<>();
            for (String name : stringArray(lib.openslide_get_property_names(osr))) {
                props.put(name, lib.openslide_get_property_value(osr, name));
            }
            checkError("read the properties");
            properties = Collections.unmodifiableMap(props);
            Map<String, long[]> images = new LinkedHashMap<>();
            for (String name : stringArray(lib.openslide_get_associated_image_names(osr))) {
                lib.openslide_get_associated_image_dimensions(osr, name, w, h);
                checkError("read associated image '" + name + "'");
                images.put(name, new long[] {w.getValue(), h.getValue()});
            }
            associatedImages = Collections.unmodifiableMap(images);
        } catch (RuntimeException e) {
            lib.openslide_close(osr);
            throw e;
        }
    }

    private static String[] stringArray(Pointer nullTerminated) {
        return nullTerminated == null ? new String[0] : nullTerminated.getStringArray(0, "UTF-8");
    }

    public Path path() {
        return path;
    }

    @Override
    public String vendor() {
        return vendor;
    }

    @Override
    public int levelCount() {
        return widths.length;
    }

    @Override
    public long levelWidth(int level) {
        return widths[checkLevel(level)];
    }

    @Override
    public long levelHeight(int level) {
        return heights[checkLevel(level)];
    }

    @Override
    public double levelDownsample(int level) {
        return downsamples[checkLevel(level)];
    }

    /** OpenSlide's choice of level for a downsample (the finest level not finer than needed). */
    public int bestLevelForDownsample(double downsample) {
        readLock.lock();
        try {
            checkOpen();
            int level = lib.openslide_get_best_level_for_downsample(osr, downsample);
            checkError("choose a level for downsample " + downsample);
            return level;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public Map<String, String> properties() {
        return properties;
    }

    /** The value of one property, or {@code null}. */
    public String property(String name) {
        return properties.get(name);
    }

    @Override
    public Set<String> associatedImageNames() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(associatedImages.keySet()));
    }

    /**
     * Reads an associated image ({@code label}, {@code macro}, {@code thumbnail}, ...) as opaque
     * RGB.
     *
     * @throws IllegalArgumentException when the slide has no such image
     */
    public BufferedImage readAssociatedImage(String name) {
        long[] dims = associatedImages.get(name);
        if (dims == null) {
            throw new IllegalArgumentException(
                    "slide "
                            + path
                            + " has no associated image '"
                            + name
                            + "'; it has "
                            + associatedImages.keySet());
        }
        int width = Math.toIntExact(dims[0]);
        int height = Math.toIntExact(dims[1]);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] dest = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        try (Memory buffer = new Memory((long) width * height * 4)) {
            readLock.lock();
            try {
                checkOpen();
                lib.openslide_read_associated_image(osr, name, buffer);
                checkError("read associated image '" + name + "'");
            } finally {
                readLock.unlock();
            }
            buffer.read(0, dest, 0, dest.length);
        }
        premultipliedArgbToRgbOverWhite(dest, dest.length);
        return image;
    }

    @Override
    public void readRegion(int[] dest, long x, long y, int level, int width, int height) {
        checkLevel(level);
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException(
                    "region size must be positive, got " + width + "x" + height);
        }
        long pixels = (long) width * height;
        if (pixels > dest.length) {
            throw new IllegalArgumentException(
                    "destination holds "
                            + dest.length
                            + " pixels, the region needs "
                            + pixels
                            + " ("
                            + width
                            + "x"
                            + height
                            + ")");
        }
        int n = (int) pixels;
        boolean cached = n <= MAX_CACHED_BUFFER_PIXELS;
        Memory buffer = null;
        readLock.lock();
        try {
            checkOpen();
            if (direct != null && direct.read(dest, x, y, level, width, height)) {
                directReads.increment();
                return;
            }
            openSlideReads.increment();
            buffer = cached ? threadBuffer(n) : new Memory(pixels * 4);
            lib.openslide_read_region(osr, buffer, x, y, level, width, height);
            checkError(
                    String.format(
                            "read region x=%d y=%d level=%d %dx%d", x, y, level, width, height));
            buffer.read(0, dest, 0, n);
        } finally {
            readLock.unlock();
            if (!cached && buffer != null) {
                buffer.close();
            }
        }
        premultipliedArgbToRgbOverWhite(dest, n);
    }

    /**
     * Reads the level region {@code [x0, x0 + 2 * width) x [y0, y0 + 2 * height)} ({@code x, y} in
     * level-0 pixels as for {@link #readRegion}) at half its size, the JPEG tiles decoded at 1/2
     * scale in libjpeg-turbo's DCT domain: about a quarter of the decoding work, and an
     * approximation of a 2x downscale, not OpenSlide's pixels (the {@code slides.jpeg-half-scale}
     * option).
     *
     * @return {@code false} when the slide or level is not read directly or the region's origin is
     *     odd at that level: read the full region with {@link #readRegion} instead
     */
    public boolean readRegionAtHalfScale(
            int[] dest, long x, long y, int level, int width, int height) {
        checkLevel(level);
        if (direct == null || width <= 0 || height <= 0 || (long) width * height > dest.length) {
            return false;
        }
        readLock.lock();
        try {
            checkOpen();
            if (direct.readHalfScale(dest, x, y, level, width, height)) {
                directReads.increment();
                return true;
            }
            return false;
        } finally {
            readLock.unlock();
        }
    }

    /** How many regions were decoded directly ({@link SlideReader#AUTO}) since the slide opened. */
    public long regionsReadDirectly() {
        return directReads.sum();
    }

    /** How many regions went through OpenSlide since the slide opened. */
    public long regionsReadThroughOpenSlide() {
        return openSlideReads.sum();
    }

    /**
     * Which reader serves regions of this slide: {@code direct-jpeg (levels [..])} or {@code
     * openslide}.
     */
    public String reader() {
        return direct == null ? "openslide" : "direct-jpeg (levels " + direct.directLevels() + ")";
    }

    @Override
    public BufferedImage readRegionImage(long x, long y, int level, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] dest = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        readRegion(dest, x, y, level, width, height);
        return image;
    }

    /**
     * The slide's metadata, resolution included.
     *
     * @param defaultMpp used when the slide itself says nothing about its resolution
     * @throws SlideStreamException {@code UNKNOWN_RESOLUTION} when neither the slide nor the
     *     default gives a resolution
     */
    public SlideMetadata metadata(OptionalDouble defaultMpp) {
        return SlideMetadata.read(this, path.toString(), defaultMpp);
    }

    /** Closes the native handle after the reads in flight; later reads fail. Idempotent. */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (!closed) {
                closed = true;
                if (direct != null) {
                    direct.close();
                }
                lib.openslide_close(osr);
            }
        } finally {
            writeLock.unlock();
        }
    }

    public boolean isClosed() {
        readLock.lock();
        try {
            return closed;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "OpenSlide[" + path + ", " + vendor + "]";
    }

    /**
     * Composites OpenSlide's premultiplied ARGB over white, in place, into {@code 0x00RRGGBB}: with
     * premultiplied colour {@code c <= a}, {@code c + (255 - a)} is exactly "over white", so
     * transparent pixels (outside the scanned area) become white and opaque pixels keep their
     * colour.
     */
    static void premultipliedArgbToRgbOverWhite(int[] pixels, int n) {
        for (int i = 0; i < n; i++) {
            int p = pixels[i];
            int a = p >>> 24;
            if (a == 255) {
                pixels[i] = p & 0xFFFFFF;
            } else {
                int add = 255 - a;
                int r = ((p >>> 16) & 0xFF) + add;
                int g = ((p >>> 8) & 0xFF) + add;
                int b = (p & 0xFF) + add;
                pixels[i] = (Math.min(r, 255) << 16) | (Math.min(g, 255) << 8) | Math.min(b, 255);
            }
        }
    }

    private static Memory threadBuffer(int pixels) {
        Memory buffer = READ_BUFFER.get();
        if (buffer == null || buffer.size() < (long) pixels * 4) {
            if (buffer != null) {
                buffer.close();
            }
            // Round up to a 256 px tile multiple so a mix of nearby sizes does not reallocate.
            long bytes = Math.min(MAX_CACHED_BUFFER_PIXELS, roundUp(pixels, 65536)) * 4L;
            buffer = new Memory(bytes);
            READ_BUFFER.set(buffer);
        }
        return buffer;
    }

    private static long roundUp(long value, long multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    private int checkLevel(int level) {
        if (level < 0 || level >= widths.length) {
            throw new IllegalArgumentException(
                    "level "
                            + level
                            + " does not exist: slide "
                            + path
                            + " has levels 0.."
                            + (widths.length - 1));
        }
        return level;
    }

    /** Caller holds the read lock. */
    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("slide " + path + " is already closed");
        }
    }

    private void checkError(String action) {
        String error = lib.openslide_get_error(osr);
        if (error != null) {
            throw corrupt("could not " + action + ": " + error);
        }
    }

    private SlideStreamException corrupt(String detail) {
        return new SlideStreamException(
                ErrorCode.CORRUPT_SLIDE,
                String.format(
                        "slide %s (%s): OpenSlide %s; the file is damaged or incomplete, re-export"
                                + " or re-scan it",
                        path, vendor, detail));
    }
}
