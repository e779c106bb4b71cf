package io.slidestream.slide;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the directory chain of a classic or BigTIFF file, either byte order: for each directory the
 * fields the direct tile reader and the integrity check need. Every directory and every array it
 * points to is checked to lie inside the file; one that does not throws {@link TruncatedException}
 * saying where the file ends too early.
 *
 * <p>Hand-written because no TIFF library reports <em>where</em> a file ends too early, and the
 * direct reader needs only these few fields (the JDK's ImageIO TIFF plugin reads them too, but
 * through a per-call object graph and without BigTIFF).
 */
final class TiffDirectories {

    static final int COMPRESSION_JPEG = 7;
    static final int PHOTOMETRIC_RGB = 2;
    static final int PHOTOMETRIC_YCBCR = 6;

    private static final int TAG_IMAGE_WIDTH = 256;
    private static final int TAG_IMAGE_LENGTH = 257;
    private static final int TAG_BITS_PER_SAMPLE = 258;
    private static final int TAG_COMPRESSION = 259;
    private static final int TAG_PHOTOMETRIC = 262;
    private static final int TAG_STRIP_OFFSETS = 273;
    private static final int TAG_SAMPLES_PER_PIXEL = 277;
    private static final int TAG_STRIP_BYTE_COUNTS = 279;
    private static final int TAG_PLANAR_CONFIG = 284;
    private static final int TAG_TILE_WIDTH = 322;
    private static final int TAG_TILE_LENGTH = 323;
    private static final int TAG_TILE_OFFSETS = 324;
    private static final int TAG_TILE_BYTE_COUNTS = 325;
    private static final int TAG_JPEG_TABLES = 347;
    private static final int MAX_DIRECTORIES = 4096;

    private TiffDirectories() {}

    /** One image file directory: the fields SlideStream reads (absent numbers are 0). */
    record Directory(
            int index,
            long width,
            long height,
            int bitsPerSample,
            int compression,
            int photometric,
            int samplesPerPixel,
            int planarConfig,
            long tileWidth,
            long tileHeight,
            long[] dataOffsets,
            long[] dataByteCounts,
            byte[] jpegTables) {

        boolean tiled() {
            return tileWidth > 0 && tileHeight > 0;
        }
    }

    /** The structure runs past the end of the file; the message says where. */
    static final class TruncatedException extends IOException {
        private static final long serialVersionUID = 1L;

        TruncatedException(String message) {
            super(message);
        }
    }

    /**
     * The file's directories in chain order, or {@code null} when the file is no TIFF (no byte
     * order mark or magic number).
     *
     * @throws TruncatedException when a directory or an array it names lies past the end
     */
    static List<Directory> read(FileChannel ch) throws IOException {
        long size = ch.size();
        ByteBuffer header = read(ch, 0, (int) Math.min(16, size), ByteOrder.LITTLE_ENDIAN);
        if (header == null || header.limit() < 8) {
            return null;
        }
        ByteOrder order;
        if (header.get(0) == 'I' && header.get(1) == 'I') {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (header.get(0) == 'M' && header.get(1) == 'M') {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            return null;
        }
        header.order(order);
        int magic = header.getShort(2) & 0xFFFF;
        boolean big;
        long ifd;
        if (magic == 42) {
            big = false;
            ifd = header.getInt(4) & 0xFFFFFFFFL;
        } else if (magic == 43 && header.limit() >= 16) {
            big = true;
            ifd = header.getLong(8);
        } else {
            return null;
        }
        List<Directory> directories = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (int dir = 0; ifd != 0 && dir < MAX_DIRECTORIES && seen.add(ifd); dir++) {
            int countSize = big ? 8 : 2;
            int entrySize = big ? 20 : 12;
            ByteBuffer countBuf = read(ch, ifd, countSize, order);
            if (countBuf == null) {
                throw new TruncatedException(
                        String.format(
                                "directory %d starts at byte %d but the file has only %d bytes",
                                dir, ifd, size));
            }
            long entries = big ? countBuf.getLong(0) : countBuf.getShort(0) & 0xFFFF;
            // A count beyond what the file could hold is refused before it is multiplied (a
            // BigTIFF count of 2^62 entries would overflow into a small table).
            long tableBytes = entries * entrySize + (big ? 8 : 4);
            if (entries < 0 || entries > size / entrySize || ifd + countSize + tableBytes > size) {
                throw new TruncatedException(
                        String.format(
                                "directory %d (%d entries at byte %d) ends past the end of the"
                                        + " file (%d bytes)",
                                dir, entries, ifd, size));
            }
            ByteBuffer table = read(ch, ifd + countSize, (int) tableBytes, order);
            directories.add(directory(ch, dir, table, (int) entries, big, order, size));
            ifd =
                    big
                            ? table.getLong((int) tableBytes - 8)
                            : table.getInt((int) tableBytes - 4) & 0xFFFFFFFFL;
        }
        return directories;
    }

    private static Directory directory(
            FileChannel ch,
            int dir,
            ByteBuffer table,
            int entries,
            boolean big,
            ByteOrder order,
            long size)
            throws IOException {
        int entrySize = big ? 20 : 12;
        long width = 0;
        long height = 0;
        int bits = 0;
        int compression = 0;
        int photometric = -1;
        int samples = 0;
        int planar = 1;
        long tileWidth = 0;
        long tileHeight = 0;
        long[] offsets = null;
        long[] counts = null;
        byte[] tables = null;
        for (int e = 0; e < entries; e++) {
            int at = e * entrySize;
            int tag = table.getShort(at) & 0xFFFF;
            switch (tag) {
                case TAG_IMAGE_WIDTH -> width = first(ch, table, at, big, order, size);
                case TAG_IMAGE_LENGTH -> height = first(ch, table, at, big, order, size);
                case TAG_BITS_PER_SAMPLE -> bits = (int) first(ch, table, at, big, order, size);
                case TAG_COMPRESSION -> compression = (int) first(ch, table, at, big, order, size);
                case TAG_PHOTOMETRIC -> photometric = (int) first(ch, table, at, big, order, size);
                case TAG_SAMPLES_PER_PIXEL ->
                        samples = (int) first(ch, table, at, big, order, size);
                case TAG_PLANAR_CONFIG -> planar = (int) first(ch, table, at, big, order, size);
                case TAG_TILE_WIDTH -> tileWidth = first(ch, table, at, big, order, size);
                case TAG_TILE_LENGTH -> tileHeight = first(ch, table, at, big, order, size);
                case TAG_STRIP_OFFSETS, TAG_TILE_OFFSETS -> {
                    offsets = values(ch, table, at, big, order, size);
                    if (offsets == null) {
                        throw new TruncatedException(
                                String.format(
                                        "the data offsets of directory %d lie past the end of the"
                                                + " file (%d bytes)",
                                        dir, size));
                    }
                }
                case TAG_STRIP_BYTE_COUNTS, TAG_TILE_BYTE_COUNTS -> {
                    counts = values(ch, table, at, big, order, size);
                    if (counts == null) {
                        throw new TruncatedException(
                                String.format(
                                        "the data sizes of directory %d lie past the end of the"
                                                + " file (%d bytes)",
                                        dir, size));
                    }
                }
                case TAG_JPEG_TABLES -> tables = bytes(ch, table, at, big, order, size);
                default -> {}
            }
        }
        return new Directory(
                dir,
                width,
                height,
                bits,
                compression,
                photometric,
                samples,
                planar,
                tileWidth,
                tileHeight,
                offsets == null ? new long[0] : offsets,
                counts == null ? new long[0] : counts,
                tables);
    }

    /** The first value of a numeric entry (0 when it has none or lies outside the file). */
    private static long first(
            FileChannel ch, ByteBuffer table, int at, boolean big, ByteOrder order, long size)
            throws IOException {
        long[] v = values(ch, table, at, big, order, size);
        return v == null || v.length == 0 ? 0 : v[0];
    }

    /** The values of a SHORT/LONG/LONG8 entry; null when they lie outside the file. */
    private static long[] values(
            FileChannel ch, ByteBuffer table, int at, boolean big, ByteOrder order, long size)
            throws IOException {
        int type = table.getShort(at + 2) & 0xFFFF;
        long count = big ? table.getLong(at + 4) : table.getInt(at + 4) & 0xFFFFFFFFL;
        int width = type == 3 ? 2 : type == 4 ? 4 : (type == 16 || type == 18) ? 8 : 0;
        if (width == 0 || count <= 0 || count > Integer.MAX_VALUE / 8) {
            return new long[0];
        }
        ByteBuffer data = payload(ch, table, at, big, order, size, (int) count * width);
        if (data == null) {
            return null;
        }
        long[] out = new long[(int) count];
        for (int i = 0; i < out.length; i++) {
            out[i] =
                    width == 2
                            ? data.getShort(i * 2) & 0xFFFF
                            : width == 4 ? data.getInt(i * 4) & 0xFFFFFFFFL : data.getLong(i * 8);
        }
        return out;
    }

    /** The bytes of an UNDEFINED/BYTE entry (JPEGTables); null when absent or outside the file. */
    private static byte[] bytes(
            FileChannel ch, ByteBuffer table, int at, boolean big, ByteOrder order, long size)
            throws IOException {
        long count = big ? table.getLong(at + 4) : table.getInt(at + 4) & 0xFFFFFFFFL;
        if (count <= 0 || count > (1 << 20)) {
            return null;
        }
        ByteBuffer data = payload(ch, table, at, big, order, size, (int) count);
        if (data == null) {
            return null;
        }
        byte[] out = new byte[(int) count];
        data.get(0, out);
        return out;
    }

    /** An entry's payload: inline in the entry, or at the offset it holds. */
    private static ByteBuffer payload(
            FileChannel ch,
            ByteBuffer table,
            int at,
            boolean big,
            ByteOrder order,
            long size,
            int bytes)
            throws IOException {
        int inline = big ? 8 : 4;
        if (bytes <= inline) {
            ByteBuffer data = table.duplicate().order(order);
            data.position(at + (big ? 12 : 8));
            return data.slice().order(order);
        }
        long offset = big ? table.getLong(at + 12) : table.getInt(at + 8) & 0xFFFFFFFFL;
        if (offset + bytes > size) {
            return null;
        }
        return read(ch, offset, bytes, order);
    }

    /** Reads exactly {@code length} bytes at {@code position}; null when the file is shorter. */
    private static ByteBuffer read(FileChannel ch, long position, int length, ByteOrder order)
            throws IOException {
        if (position < 0 || position + length > ch.size()) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate(length).order(order);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                return null;
            }
        }
        return buf.flip();
    }
}
