package io.slidestream.slide;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * Tells a truncated TIFF-based slide from a file that is simply not a slide. OpenSlide answers both
 * with "not recognised" (libtiff cannot read a directory past the end of the file), but they need
 * different codes: a truncated copy is {@code CORRUPT_SLIDE}, a text file {@code
 * UNSUPPORTED_FORMAT}.
 *
 * <p>Walks the classic or BigTIFF directory chain and checks that every directory and every strip
 * or tile lies inside the file. Hand-written because no TIFF library reports <em>where</em> a file
 * ends too early; it is only consulted after OpenSlide has refused a file, so NDPI's non-standard
 * offsets above 4 GiB never reach it for a good file.
 */
final class TiffIntegrity {

    private static final int TAG_STRIP_OFFSETS = 273;
    private static final int TAG_STRIP_BYTE_COUNTS = 279;
    private static final int TAG_TILE_OFFSETS = 324;
    private static final int TAG_TILE_BYTE_COUNTS = 325;
    private static final int MAX_DIRECTORIES = 4096;

    private TiffIntegrity() {}

    /**
     * A description of where the TIFF structure runs past the end of the file, or {@code null} when
     * the file is no TIFF or its structure is complete.
     */
    static String findTruncation(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
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
            Set<Long> seen = new HashSet<>();
            for (int dir = 0; ifd != 0 && dir < MAX_DIRECTORIES && seen.add(ifd); dir++) {
                int countSize = big ? 8 : 2;
                int entrySize = big ? 20 : 12;
                ByteBuffer countBuf = read(ch, ifd, countSize, order);
                if (countBuf == null) {
                    return String.format(
                            "directory %d starts at byte %d but the file has only %d bytes",
                            dir, ifd, size);
                }
                long entries = big ? countBuf.getLong(0) : countBuf.getShort(0) & 0xFFFF;
                long tableBytes = entries * entrySize + (big ? 8 : 4);
                if (entries < 0 || ifd + countSize + tableBytes > size) {
                    return String.format(
                            "directory %d (%d entries at byte %d) ends past the end of the file"
                                    + " (%d bytes)",
                            dir, entries, ifd, size);
                }
                ByteBuffer table = read(ch, ifd + countSize, (int) tableBytes, order);
                long[] offsets = null;
                long[] counts = null;
                for (int e = 0; e < entries; e++) {
                    int at = e * entrySize;
                    int tag = table.getShort(at) & 0xFFFF;
                    if (tag == TAG_STRIP_OFFSETS || tag == TAG_TILE_OFFSETS) {
                        offsets = values(ch, table, at, big, order, size);
                        if (offsets == null) {
                            return String.format(
                                    "the data offsets of directory %d lie past the end of the"
                                            + " file (%d bytes)",
                                    dir, size);
                        }
                    } else if (tag == TAG_STRIP_BYTE_COUNTS || tag == TAG_TILE_BYTE_COUNTS) {
                        counts = values(ch, table, at, big, order, size);
                        if (counts == null) {
                            return String.format(
                                    "the data sizes of directory %d lie past the end of the file"
                                            + " (%d bytes)",
                                    dir, size);
                        }
                    }
                }
                if (offsets != null && counts != null) {
                    long end = 0;
                    for (int i = 0; i < Math.min(offsets.length, counts.length); i++) {
                        end = Math.max(end, offsets[i] + counts[i]);
                    }
                    if (end > size) {
                        return String.format(
                                "the image data of directory %d runs to byte %d but the file has"
                                        + " only %d bytes",
                                dir, end, size);
                    }
                }
                long next =
                        big
                                ? table.getLong((int) tableBytes - 8)
                                : table.getInt((int) tableBytes - 4) & 0xFFFFFFFFL;
                ifd = next;
            }
            return null;
        }
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
        int bytes = (int) count * width;
        int inline = big ? 8 : 4;
        ByteBuffer data;
        if (bytes <= inline) {
            data = table.duplicate().order(order);
            data.position(at + (big ? 12 : 8));
            data = data.slice().order(order);
        } else {
            long offset = big ? table.getLong(at + 12) : table.getInt(at + 8) & 0xFFFFFFFFL;
            if (offset + bytes > size) {
                return null;
            }
            data = read(ch, offset, bytes, order);
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
