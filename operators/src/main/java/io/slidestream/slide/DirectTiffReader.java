package io.slidestream.slide;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fast tile path: reads regions of JPEG-tiled TIFF slides (Aperio SVS, generic tiled TIFF) by
 * decoding their tiles with libjpeg-turbo directly, pixel-identical to OpenSlide 3.4.1's {@code
 * read_region} on the same file.
 *
 * <p><b>Why identical.</b> For these formats OpenSlide itself reads the raw JPEG tile, loads the
 * directory's JPEGTables, decodes with libjpeg (Debian links libjpeg-turbo, the library behind
 * TurboJPEG) with its default accurate IDCT and fancy upsampling, forces the JPEG colour space from
 * the TIFF photometric tag (Aperio writes RGB-coded tiles with no marker saying so), caches the
 * decoded tile, clears the pixels past the image's right and bottom edges and paints tiles onto the
 * region with cairo. When the region's origin falls on a whole pixel of the level, that paint is a
 * plain copy, and transparent pixels become white in {@link OpenSlide}'s conversion. This class
 * does the same steps without cairo: it merges the tables and the tile into one stream (the
 * TurboJPEG API decodes a complete stream), rewrites the component ids and disables JFIF/Adobe
 * markers so that libjpeg infers the colour space OpenSlide sets (the TurboJPEG 2.1 API has no way
 * to set it), decodes into a per-thread buffer and copies only the pixels the region needs.
 *
 * <p><b>What it leaves to OpenSlide.</b> {@link #read} returns {@code false} and the caller reads
 * through OpenSlide whenever the result could differ: another vendor or compression, a level whose
 * origin falls between pixels (cairo interpolates those), negative coordinates, a region over 4096
 * px on a side (OpenSlide splits those), Aperio slides with missing tiles (OpenSlide paints them
 * from the level above), or a tile that does not decode cleanly (OpenSlide then gives its own typed
 * error, or its own pixels).
 *
 * <p><b>State.</b> Level descriptions are immutable after {@link #open}; decoded tiles are kept in
 * an LRU cache of {@value #CACHE_BYTES} bytes per slide, as OpenSlide's own per-handle cache, so a
 * tile shared by neighbouring reads is decoded once. Reads are safe from several threads (each uses
 * its thread's {@link TurboJpeg.Decoder}); {@link #close()} must not overlap reads (the owning
 * {@link OpenSlide} guarantees that with its lock).
 */
final class DirectTiffReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DirectTiffReader.class);

    /** OpenSlide 3.4.1's default tile cache size per handle. */
    static final long CACHE_BYTES = 32L << 20;

    /** OpenSlide paints regions larger than this in pieces; only smaller ones are read here. */
    private static final int MAX_EDGE = 4096;

    private static final int WHITE = 0xFFFFFF;
    private static final Set<String> VENDORS = Set.of("aperio", "generic-tiff");

    private final Path file;
    private final Level[] levels;
    private final TileCache cache;
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> decoding =
            new ConcurrentHashMap<>();
    private volatile FileChannel channel;

    private DirectTiffReader(Path file, FileChannel channel, Level[] levels, long cacheBytes) {
        this.file = file;
        this.cache = new TileCache(cacheBytes);
        this.channel = channel;
        this.levels = levels;
    }

    /** One pyramid level that can be read directly. */
    private record Level(
            int index,
            double downsample,
            long imageWidth,
            long imageHeight,
            int tileWidth,
            int tileHeight,
            long tilesAcross,
            long tilesDown,
            long[] offsets,
            long[] byteCounts,
            byte[] prefix,
            boolean rgb) {}

    /**
     * A reader for the levels of {@code slide} that can be decoded directly, or {@code null} when
     * none can (another vendor or compression, no libturbojpeg): the caller then reads everything
     * through OpenSlide.
     */
    static DirectTiffReader open(Path file, OpenSlide slide) {
        return open(file, slide, CACHE_BYTES);
    }

    /** {@link #open(Path, OpenSlide)} with a tile cache of {@code cacheBytes} (tests). */
    static DirectTiffReader open(Path file, OpenSlide slide, long cacheBytes) {
        if (!VENDORS.contains(slide.vendor())) {
            return null;
        }
        if (!TurboJpeg.available()) {
            LOG.warn("reading {} through OpenSlide: {}", file, TurboJpeg.unavailableReason());
            return null;
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            List<TiffDirectories.Directory> dirs = TiffDirectories.read(ch);
            if (dirs == null) {
                ch.close();
                return null;
            }
            Level[] levels = new Level[slide.levelCount()];
            boolean any = false;
            for (int i = 0; i < levels.length; i++) {
                levels[i] = level(i, slide, dirs);
                any |= levels[i] != null;
            }
            if (any && slide.vendor().equals("aperio") && hasMissingTiles(levels)) {
                LOG.info(
                        "{} has missing tiles, which OpenSlide paints from the level above;"
                                + " reading it through OpenSlide",
                        file);
                any = false;
            }
            if (!any) {
                ch.close();
                return null;
            }
            return new DirectTiffReader(file, ch, levels, cacheBytes);
        } catch (IOException e) {
            LOG.info("reading {} through OpenSlide: its TIFF structure: {}", file, e.toString());
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing; the slide is read through OpenSlide
                }
            }
            return null;
        }
    }

    private static Level level(int i, OpenSlide slide, List<TiffDirectories.Directory> dirs) {
        TiffDirectories.Directory match = null;
        for (TiffDirectories.Directory d : dirs) {
            if (d.tiled()
                    && d.width() == slide.levelWidth(i)
                    && d.height() == slide.levelHeight(i)) {
                if (match != null) {
                    return null; // two candidates: leave the choice to OpenSlide
                }
                match = d;
            }
        }
        if (match == null
                || match.compression() != TiffDirectories.COMPRESSION_JPEG
                || match.planarConfig() != 1
                || match.bitsPerSample() != 8
                || match.samplesPerPixel() != 3
                || (match.photometric() != TiffDirectories.PHOTOMETRIC_RGB
                        && match.photometric() != TiffDirectories.PHOTOMETRIC_YCBCR)
                || match.tileWidth() > MAX_EDGE
                || match.tileHeight() > MAX_EDGE) {
            return null;
        }
        long across = (match.width() + match.tileWidth() - 1) / match.tileWidth();
        long down = (match.height() + match.tileHeight() - 1) / match.tileHeight();
        if (match.dataOffsets().length < across * down
                || match.dataByteCounts().length < across * down) {
            return null;
        }
        boolean rgb = match.photometric() == TiffDirectories.PHOTOMETRIC_RGB;
        byte[] prefix = JpegStreams.tablesPrefix(match.jpegTables(), rgb);
        if (prefix == null) {
            return null;
        }
        return new Level(
                i,
                i == 0 ? 1.0 : slide.levelDownsample(i),
                match.width(),
                match.height(),
                (int) match.tileWidth(),
                (int) match.tileHeight(),
                across,
                down,
                match.dataOffsets(),
                match.dataByteCounts(),
                prefix,
                rgb);
    }

    private static boolean hasMissingTiles(Level[] levels) {
        for (Level l : levels) {
            if (l != null) {
                for (int t = 0; t < l.tilesAcross * l.tilesDown; t++) {
                    if (l.byteCounts[t] == 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The levels read directly, for logs and benchmarks. */
    List<Integer> directLevels() {
        List<Integer> out = new ArrayList<>();
        for (Level l : levels) {
            if (l != null) {
                out.add(l.index);
            }
        }
        return out;
    }

    /**
     * Reads a region exactly as OpenSlide would, into {@code dest} as {@code 0x00RRGGBB}.
     *
     * @return {@code false} when this region must be read through OpenSlide instead ({@code dest}
     *     may then hold partial pixels)
     */
    boolean read(int[] dest, long x, long y, int level, int width, int height) {
        return read(dest, x, y, level, width, height, 1);
    }

    /**
     * Reads the region of {@code 2 * width x 2 * height} pixels of the level at half its size, each
     * JPEG tile decoded at 1/2 scale in libjpeg-turbo's DCT domain (about a quarter of the decoding
     * work). Not OpenSlide's pixels: an approximation of a 2x downscale, for the explicit {@code
     * slides.jpeg-half-scale} option.
     *
     * @return {@code false} when this level or region cannot be read so (the caller then reads the
     *     full region exactly)
     */
    boolean readHalfScale(int[] dest, long x, long y, int level, int width, int height) {
        Level l = levels[level];
        if (l == null || l.tileWidth % 2 != 0 || l.tileHeight % 2 != 0) {
            return false;
        }
        return read(dest, x, y, level, width, height, 2);
    }

    private boolean read(int[] dest, long x, long y, int level, int width, int height, int scale) {
        Level l = levels[level];
        if (l == null || x < 0 || y < 0 || width > MAX_EDGE || height > MAX_EDGE) {
            return false;
        }
        // The level origin exactly as OpenSlide computes it (x / downsample in double).
        double lx = x / l.downsample;
        double ly = y / l.downsample;
        if (lx != Math.rint(lx) || ly != Math.rint(ly)) {
            return false;
        }
        if (((long) lx) % scale != 0 || ((long) ly) % scale != 0) {
            return false;
        }
        // From here on in output pixels (the level's, or half of them).
        long px = (long) lx / scale;
        long py = (long) ly / scale;
        long imageWidth = l.imageWidth / scale;
        long imageHeight = l.imageHeight / scale;
        int tileWidth = l.tileWidth / scale;
        int tileHeight = l.tileHeight / scale;
        if (px + width > imageWidth || py + height > imageHeight) {
            Arrays.fill(dest, 0, width * height, WHITE);
        }
        long lastX = Math.min(px + width, imageWidth);
        long lastY = Math.min(py + height, imageHeight);
        if (px >= lastX || py >= lastY) {
            return true; // wholly outside the level: all white, as OpenSlide's transparent
        }
        for (long ty = py / tileHeight; ty * tileHeight < lastY; ty++) {
            long tileTop = ty * tileHeight;
            long y0 = Math.max(py, tileTop);
            long y1 = Math.min(lastY, tileTop + tileHeight);
            for (long tx = px / tileWidth; tx * tileWidth < lastX; tx++) {
                TileCache.Tile tile = tile(l, tx, ty, scale);
                if (tile == null) {
                    return false;
                }
                try {
                    long tileLeft = tx * tileWidth;
                    long x0 = Math.max(px, tileLeft);
                    int run = (int) (Math.min(lastX, tileLeft + tileWidth) - x0);
                    for (long row = y0; row < y1; row++) {
                        System.arraycopy(
                                tile.pixels,
                                (int) ((row - tileTop) * tileWidth + (x0 - tileLeft)),
                                dest,
                                (int) ((row - py) * width + (x0 - px)),
                                run);
                    }
                } finally {
                    cache.release(tile);
                }
            }
        }
        return true;
    }

    /**
     * The decoded tile (cached), acquired for reading (release it with {@link TileCache#release}),
     * or {@code null} when it does not decode cleanly. Threads that ask for a tile another thread
     * is decoding wait for that decode instead of repeating it (neighbouring regions on different
     * threads share edge tiles).
     */
    private TileCache.Tile tile(Level l, long tx, long ty, int scale) {
        long index = ty * l.tilesAcross + tx;
        long key = ((long) l.index << 48) | ((long) scale << 44) | index;
        for (int waits = 0; ; waits++) {
            TileCache.Tile tile = cache.acquire(key);
            if (tile != null) {
                return tile;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> other = waits < 2 ? decoding.putIfAbsent(key, mine) : null;
            if (other != null) {
                other.join(); // then look again: the decode put the tile in the cache
                continue;
            }
            try {
                return decode(l, index, scale, key);
            } finally {
                if (waits < 2) {
                    decoding.remove(key, mine);
                }
                mine.complete(null);
            }
        }
    }

    /** Decodes a tile into a recycled or new array and caches it, acquired; null on failure. */
    private TileCache.Tile decode(Level l, long index, int scale, long key) {
        long offset = l.offsets[(int) index];
        long count = l.byteCounts[(int) index];
        if (count < 4 || count > Integer.MAX_VALUE - l.prefix.length) {
            return null;
        }
        TurboJpeg.Decoder decoder = TurboJpeg.Decoder.forThisThread();
        int start = l.prefix.length - 2; // the tile's own SOI lands on the prefix's last 2 bytes
        int length = start + (int) count;
        ByteBuffer in = decoder.input(length);
        in.position(start).limit(length);
        try {
            readFully(in, offset);
        } catch (IOException e) {
            LOG.debug("tile {} of level {} of {}: {}", index, l.index, file, e.toString());
            return null;
        }
        if ((in.get(start) & 0xFF) != 0xFF || (in.get(start + 1) & 0xFF) != 0xD8) {
            return null; // not a JPEG stream: let OpenSlide report it
        }
        in.put(0, l.prefix);
        if (!JpegStreams.forceColourSpace(in, l.prefix.length, length, l.rgb)) {
            return null;
        }
        int outWidth = l.tileWidth / scale;
        int outHeight = l.tileHeight / scale;
        String error = decoder.decode(length, l.tileWidth, l.tileHeight, outWidth, outHeight);
        if (error != null) {
            LOG.debug("tile {} of level {} of {}: {}", index, l.index, file, error);
            return null;
        }
        int[] pixels = cache.array(outWidth * outHeight);
        decoder.copyDecoded(pixels, pixels.length);
        return cache.putAcquired(key, pixels);
    }

    private void readFully(ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n;
            try {
                n = channel.read(buf, at);
            } catch (ClosedChannelException e) {
                // An interrupted reader thread closes the channel for everyone: reopen it.
                reopen();
                throw e;
            }
            if (n < 0) {
                throw new IOException("the file ends before the tile does");
            }
            at += n;
        }
    }

    private synchronized void reopen() throws IOException {
        if (!channel.isOpen()) {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        }
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {}: {}", file, e.toString());
        }
        cache.clear();
    }

    /**
     * Decoded tiles by (level, scale, tile index), least recently used first out, bounded in bytes.
     * A tile is acquired while its pixels are copied; the array of an evicted tile goes back to a
     * small free list once no reader holds it, and the next decode of that size reuses it, so
     * steady reading allocates no tile arrays (a tile is 230-260 KB: they were half of what the
     * whole pipeline allocated).
     */
    static final class TileCache {
        private static final int MAX_FREE = 8;

        private final long capacity;
        private final LinkedHashMap<Long, Tile> tiles = new LinkedHashMap<>(64, 0.75f, true);
        private final java.util.ArrayDeque<int[]> free = new java.util.ArrayDeque<>();
        private long bytes;

        /** One decoded tile; {@code users} and {@code evicted} are guarded by the cache. */
        static final class Tile {
            final int[] pixels;
            private int users;
            private boolean evicted;

            Tile(int[] pixels) {
                this.pixels = pixels;
            }
        }

        TileCache(long capacity) {
            this.capacity = capacity;
        }

        /** The cached tile, acquired, or null. */
        synchronized Tile acquire(long key) {
            Tile tile = tiles.get(key);
            if (tile != null) {
                tile.users++;
            }
            return tile;
        }

        /** Caches freshly decoded pixels and returns them acquired. */
        synchronized Tile putAcquired(long key, int[] pixels) {
            Tile tile = new Tile(pixels);
            tile.users = 1;
            Tile old = tiles.put(key, tile);
            bytes += 4L * pixels.length;
            if (old != null) {
                bytes -= 4L * old.pixels.length;
                evicted(old);
            }
            var it = tiles.entrySet().iterator();
            while (bytes > capacity && it.hasNext()) {
                Tile eldest = it.next().getValue();
                if (eldest == tile) {
                    continue;
                }
                it.remove();
                bytes -= 4L * eldest.pixels.length;
                evicted(eldest);
            }
            return tile;
        }

        synchronized void release(Tile tile) {
            tile.users--;
            if (tile.evicted && tile.users == 0) {
                recycle(tile.pixels);
            }
        }

        /** An array of exactly {@code length} ints: a recycled one when there is one. */
        synchronized int[] array(int length) {
            for (var it = free.iterator(); it.hasNext(); ) {
                int[] a = it.next();
                if (a.length == length) {
                    it.remove();
                    return a;
                }
            }
            return new int[length];
        }

        private void evicted(Tile tile) {
            tile.evicted = true;
            if (tile.users == 0) {
                recycle(tile.pixels);
            }
        }

        private void recycle(int[] pixels) {
            if (free.size() < MAX_FREE) {
                free.push(pixels);
            }
        }

        synchronized void clear() {
            tiles.clear();
            free.clear();
            bytes = 0;
        }
    }
}
