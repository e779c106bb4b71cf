package io.slidestream.synthetic;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a little-endian classic TIFF whose images are JPEG-compressed tiles, streamed: tile data
 * goes straight to the file as it is produced, and the image file directories (IFDs) are written
 * after all tile data, when {@link #close()} is called. Memory use is the tile offset tables only.
 *
 * <p>Hand-written rather than the JDK's TIFF writer: that writer pulls pixels from one {@code
 * RenderedImage} per image and decides the JPEG-in-TIFF layout itself, while OpenSlide's drivers
 * need exact control of the tags (YCbCr photometric with 2x2 subsampling, resolution, Aperio's
 * ImageDescription), several pyramid levels and background tiles that share one stored copy.
 *
 * <p>Not thread-safe; one writer per file.
 */
final class TiledTiffWriter implements Closeable {

    private static final int SHORT = 3;
    private static final int LONG = 4;
    private static final int RATIONAL = 5;
    private static final int ASCII = 2;
    private static final long MAX_CLASSIC_OFFSET = 0xFFFF_FFFFL;

    /** One image (pyramid level) of the file. */
    record Directory(
            long width,
            long height,
            int tileSize,
            long[] tileOffsets,
            long[] tileByteCounts,
            boolean reducedResolution,
            String description,
            double pixelsPerCentimeter) {}

    private final Path file;
    private final OutputStream out;
    private final List<Directory> directories = new ArrayList<>();
    private long position;
    private boolean closed;

    TiledTiffWriter(Path file) throws IOException {
        this.file = file;
        this.out =
                new BufferedOutputStream(
                        Files.newOutputStream(
                                file,
                                StandardOpenOption.CREATE,
                                StandardOpenOption.TRUNCATE_EXISTING,
                                StandardOpenOption.WRITE),
                        1 << 20);
        // Byte order, magic 42; the first IFD offset is patched in close().
        write(new byte[] {'I', 'I', 42, 0, 0, 0, 0, 0}, 8);
    }

    /** Appends one tile's JPEG stream and returns its offset in the file. */
    long writeTile(byte[] data, int length) throws IOException {
        long offset = position;
        write(data, length);
        return offset;
    }

    void addDirectory(Directory directory) {
        directories.add(directory);
    }

    long size() {
        return position;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            long first = 0;
            long previousNextPointer = -1;
            List<long[]> patches = new ArrayList<>();
            for (Directory dir : directories) {
                align();
                long ifdOffset = writeDirectory(dir);
                if (previousNextPointer < 0) {
                    first = ifdOffset;
                } else {
                    patches.add(new long[] {previousNextPointer, ifdOffset});
                }
                previousNextPointer = position - 4;
            }
            out.flush();
            patches.add(new long[] {4, first});
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                for (long[] patch : patches) {
                    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                    b.putInt(0, (int) patch[1]);
                    ch.write(b, patch[0]);
                }
            }
        }
    }

    /** Writes the out-of-line values, then the IFD itself; returns the IFD's offset. */
    private long writeDirectory(Directory dir) throws IOException {
        int tiles = dir.tileOffsets().length;
        long offsetsAt = writeLongs(dir.tileOffsets());
        long countsAt = writeLongs(dir.tileByteCounts());
        long bitsAt = position;
        writeShorts(new int[] {8, 8, 8});
        long descriptionAt = -1;
        int descriptionLength = 0;
        if (dir.description() != null) {
            byte[] text = (dir.description() + '\0').getBytes(StandardCharsets.US_ASCII);
            align();
            descriptionAt = position;
            descriptionLength = text.length;
            write(text, text.length);
        }
        long resolutionAt = -1;
        if (dir.pixelsPerCentimeter() > 0) {
            align();
            resolutionAt = position;
            // RATIONAL with a denominator of 1000 keeps three decimals of pixels/cm.
            long numerator = Math.round(dir.pixelsPerCentimeter() * 1000);
            ByteBuffer r = le(16);
            r.putInt((int) numerator).putInt(1000).putInt((int) numerator).putInt(1000);
            write(r.array(), 16);
        }
        align();
        long ifdOffset = position;
        List<int[]> entries = new ArrayList<>();
        // Entries in ascending tag order, as TIFF requires: {tag, type, count, value}.
        entries.add(new int[] {254, LONG, 1, dir.reducedResolution() ? 1 : 0});
        entries.add(new int[] {256, LONG, 1, (int) dir.width()});
        entries.add(new int[] {257, LONG, 1, (int) dir.height()});
        entries.add(new int[] {258, SHORT, 3, (int) bitsAt});
        entries.add(new int[] {259, SHORT, 1, 7}); // JPEG ("new style")
        entries.add(new int[] {262, SHORT, 1, 6}); // YCbCr: what the JFIF streams hold
        if (descriptionAt >= 0) {
            entries.add(new int[] {270, ASCII, descriptionLength, (int) descriptionAt});
        }
        entries.add(new int[] {277, SHORT, 1, 3});
        if (resolutionAt >= 0) {
            entries.add(new int[] {282, RATIONAL, 1, (int) resolutionAt});
            entries.add(new int[] {283, RATIONAL, 1, (int) resolutionAt + 8});
        }
        entries.add(new int[] {284, SHORT, 1, 1}); // chunky
        if (resolutionAt >= 0) {
            entries.add(new int[] {296, SHORT, 1, 3}); // centimeter
        }
        entries.add(new int[] {322, LONG, 1, dir.tileSize()});
        entries.add(new int[] {323, LONG, 1, dir.tileSize()});
        entries.add(new int[] {324, LONG, tiles, (int) offsetsAt});
        entries.add(new int[] {325, LONG, tiles, (int) countsAt});
        // 2x2 chroma subsampling, as the JDK's JPEG writer encodes by default; packed into the
        // value field as two SHORTs.
        entries.add(new int[] {530, SHORT, 2, 2 | (2 << 16)});
        ByteBuffer ifd = le(2 + entries.size() * 12 + 4);
        ifd.putShort((short) entries.size());
        for (int[] e : entries) {
            ifd.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
            if (e[1] == SHORT && e[2] == 1) {
                ifd.putShort((short) e[3]).putShort((short) 0);
            } else {
                ifd.putInt(e[3]);
            }
        }
        ifd.putInt(0); // next IFD, patched when there is one
        write(ifd.array(), ifd.capacity());
        return ifdOffset;
    }

    /** Writes LONG values out of line (or returns the single value to be stored inline). */
    private long writeLongs(long[] values) throws IOException {
        if (values.length == 1) {
            return values[0];
        }
        align();
        long at = position;
        ByteBuffer b = le(values.length * 4);
        for (long v : values) {
            b.putInt((int) v);
        }
        write(b.array(), b.capacity());
        return at;
    }

    private void writeShorts(int[] values) throws IOException {
        ByteBuffer b = le(values.length * 2);
        for (int v : values) {
            b.putShort((short) v);
        }
        write(b.array(), b.capacity());
    }

    /** IFDs and their values start on a word boundary. */
    private void align() throws IOException {
        if ((position & 1) != 0) {
            write(new byte[1], 1);
        }
    }

    private void write(byte[] data, int length) throws IOException {
        if (position + length > MAX_CLASSIC_OFFSET) {
            throw new IOException(
                    "synthetic slide "
                            + file
                            + " would exceed the 4 GiB a classic TIFF can address; make it"
                            + " smaller or lower the JPEG quality");
        }
        out.write(data, 0, length);
        position += length;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
