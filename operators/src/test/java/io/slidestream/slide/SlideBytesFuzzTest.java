package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Slides from other hospitals reach the direct TIFF reader and libjpeg-turbo before anything else
 * has looked at them. Each fuzz input is an edit of a real slide (small.svs, boxes.tiff): bytes and
 * 32-bit words written anywhere (directory entries, counts, offsets, tile data), and a truncation.
 * The directory walk ({@link TiffDirectories}) and the truncation check ({@link TiffIntegrity})
 * return or throw an {@link IOException}, nothing else; every JPEG tile of a tiled directory goes
 * through the direct reader's steps ({@link JpegStreams}, {@link TurboJpeg.Decoder}) and ends
 * decoded or with an error message, and the JVM survives libjpeg-turbo. Findings are written by
 * Jazzer under {@code src/test/resources/io/slidestream/slide/SlideBytesFuzzTestInputs} and
 * replayed by every later run.
 */
class SlideBytesFuzzTest {
    private static final byte[][] SLIDES = {read("small.svs"), read("boxes.tiff")};
    private static final Path FILE = scratchFile();
    private static final int MAX_TILE_EDGE = 1024;
    private static final int MAX_TILES = 4;

    @FuzzTest(maxExecutions = 50_000, maxDuration = "3m")
    void editedSlidesEndReadOrRefused(FuzzedDataProvider edits) throws IOException {
        byte[] slide = SLIDES[edits.consumeInt(0, SLIDES.length - 1)].clone();
        int length = slide.length;
        int count = edits.consumeInt(0, 12);
        for (int i = 0; i < count && edits.remainingBytes() > 0; i++) {
            int at = edits.consumeInt(0, length - 1);
            switch (edits.consumeInt(0, 2)) {
                case 0 -> slide[at] = edits.consumeByte();
                case 1 -> {
                    int word = edits.consumeInt();
                    for (int b = 0; b < 4 && at + b < length; b++) {
                        slide[at + b] = (byte) (word >>> (8 * b));
                    }
                }
                default -> length = Math.max(8, at);
            }
        }
        Files.write(FILE, java.util.Arrays.copyOf(slide, length));

        List<TiffDirectories.Directory> directories;
        try (FileChannel ch = FileChannel.open(FILE, StandardOpenOption.READ)) {
            directories = TiffDirectories.read(ch);
        } catch (TiffDirectories.TruncatedException e) {
            assertThat(TiffIntegrity.findTruncation(FILE)).isNotNull();
            return;
        }
        TiffIntegrity.findTruncation(FILE);
        if (directories == null) {
            return;
        }
        for (TiffDirectories.Directory d : directories) {
            decodeTiles(d, slide, length);
        }
    }

    /** The direct reader's steps for the first tiles of a JPEG-tiled directory. */
    private static void decodeTiles(TiffDirectories.Directory d, byte[] slide, int length) {
        if (!d.tiled()
                || d.compression() != TiffDirectories.COMPRESSION_JPEG
                || d.tileWidth() > MAX_TILE_EDGE
                || d.tileHeight() > MAX_TILE_EDGE) {
            return;
        }
        boolean rgb = d.photometric() == TiffDirectories.PHOTOMETRIC_RGB;
        byte[] prefix = JpegStreams.tablesPrefix(d.jpegTables(), rgb);
        if (prefix == null) {
            return;
        }
        int tiles =
                Math.min(MAX_TILES, Math.min(d.dataOffsets().length, d.dataByteCounts().length));
        for (int t = 0; t < tiles; t++) {
            long offset = d.dataOffsets()[t];
            long count = d.dataByteCounts()[t];
            if (count < 4 || offset < 0 || offset + count > length) {
                continue;
            }
            TurboJpeg.Decoder decoder = TurboJpeg.Decoder.forThisThread();
            int start = prefix.length - 2;
            int streamLength = start + (int) count;
            ByteBuffer in = decoder.input(streamLength);
            in.put(start, slide, (int) offset, (int) count);
            if ((in.get(start) & 0xFF) != 0xFF || (in.get(start + 1) & 0xFF) != 0xD8) {
                continue;
            }
            in.put(0, prefix);
            if (!JpegStreams.forceColourSpace(in, prefix.length, streamLength, rgb)) {
                continue;
            }
            int w = (int) d.tileWidth();
            int h = (int) d.tileHeight();
            String error = decoder.decode(streamLength, w, h, w, h);
            if (error == null) {
                int[] pixels = new int[w * h];
                decoder.copyDecoded(pixels, pixels.length);
            } else {
                assertThat(error).isNotBlank();
            }
        }
    }

    private static byte[] read(String fixture) {
        try {
            return Files.readAllBytes(TestSlides.slideFixture(fixture));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path scratchFile() {
        try {
            Path file = Files.createTempFile("slidestream-fuzz-", ".tiff");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
