package io.slidestream.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Slides that are broken in a known place, made from good ones. Shared with other modules through
 * the operators test-jar.
 */
public final class CorruptSlides {
    private static final int TAG_IMAGE_WIDTH = 256;
    private static final int TAG_TILE_WIDTH = 322;
    private static final int TAG_TILE_LENGTH = 323;
    private static final int TAG_TILE_OFFSETS = 324;
    private static final int TAG_TILE_BYTE_COUNTS = 325;
    private static final int TYPE_SHORT = 3;

    private CorruptSlides() {}

    /**
     * Copies the classic little-endian tiled TIFF {@code source} (as {@code SyntheticSlideWriter}
     * writes it) to {@code target} with every tile of its first directory - level 0 - zeroed. The
     * copy opens and its lower levels read (so it can be planned), but any read at level 0 fails: a
     * slide that fails when its tiles are read, not when it is planned.
     */
    public static Path zeroLevel0Tiles(Path source, Path target) throws IOException {
        return zeroLevel0Tiles(source, target, 0, 0, Long.MAX_VALUE / 2, Long.MAX_VALUE / 2);
    }

    /**
     * As {@link #zeroLevel0Tiles(Path, Path)}, but zeroes only the level-0 tiles that overlap the
     * level-0 rectangle at ({@code x}, {@code y}) of {@code width} x {@code height} pixels: reads
     * elsewhere still succeed.
     */
    public static Path zeroLevel0Tiles(
            Path source, Path target, long x, long y, long width, long height) throws IOException {
        Files.copy(source, target);
        try (FileChannel ch =
                FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = read(ch, 0, 8);
            if (header.getShort(0) != 0x4949 || header.getShort(2) != 42) {
                throw new IllegalArgumentException(source + " is not a classic little-endian TIFF");
            }
            long ifd = Integer.toUnsignedLong(header.getInt(4));
            int entries = Short.toUnsignedInt(read(ch, ifd, 2).getShort(0));
            ByteBuffer dir = read(ch, ifd + 2, entries * 12);
            long[] offsets = null;
            long[] counts = null;
            long imageWidth = 0;
            long tileWidth = 0;
            long tileLength = 0;
            for (int i = 0; i < entries; i++) {
                int tag = Short.toUnsignedInt(dir.getShort(i * 12));
                if (tag == TAG_IMAGE_WIDTH) {
                    imageWidth = values(ch, dir, i * 12)[0];
                } else if (tag == TAG_TILE_WIDTH) {
                    tileWidth = values(ch, dir, i * 12)[0];
                } else if (tag == TAG_TILE_LENGTH) {
                    tileLength = values(ch, dir, i * 12)[0];
                } else if (tag == TAG_TILE_OFFSETS) {
                    offsets = values(ch, dir, i * 12);
                } else if (tag == TAG_TILE_BYTE_COUNTS) {
                    counts = values(ch, dir, i * 12);
                }
            }
            if (offsets == null
                    || counts == null
                    || offsets.length != counts.length
                    || tileWidth <= 0
                    || tileLength <= 0) {
                throw new IllegalArgumentException(source + " has no tiled first directory");
            }
            long across = (imageWidth + tileWidth - 1) / tileWidth;
            for (int t = 0; t < offsets.length; t++) {
                long tx = (t % across) * tileWidth;
                long ty = (t / across) * tileLength;
                if (tx < x + width
                        && tx + tileWidth > x
                        && ty < y + height
                        && ty + tileLength > y) {
                    ch.write(ByteBuffer.allocate((int) counts[t]), offsets[t]);
                }
            }
        }
        return target;
    }

    private static long[] values(FileChannel ch, ByteBuffer dir, int entry) throws IOException {
        int type = Short.toUnsignedInt(dir.getShort(entry + 2));
        int count = dir.getInt(entry + 4);
        int size = type == TYPE_SHORT ? 2 : 4;
        ByteBuffer data =
                count * size <= 4
                        ? dir.slice(entry + 8, 4).order(ByteOrder.LITTLE_ENDIAN)
                        : read(ch, Integer.toUnsignedLong(dir.getInt(entry + 8)), count * size);
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] =
                    size == 2
                            ? Short.toUnsignedInt(data.getShort(i * 2))
                            : Integer.toUnsignedLong(data.getInt(i * 4));
        }
        return values;
    }

    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new IOException("unexpected end of file at " + (position + b.position()));
            }
        }
        return b.flip();
    }
}
