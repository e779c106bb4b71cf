package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct JPEG tile reader against OpenSlide's {@code read_region} on the same file: every pixel
 * of aligned, unaligned and edge regions on every level must be identical, and the test checks that
 * the direct path (not the OpenSlide fallback) produced them. Slides: the real H&E slide
 * CMU-1-Small-Region (Aperio, RGB-coded JPEG with JPEGTables), synthetic generic-TIFF and Aperio
 * pyramids (YCbCr 4:2:0 JFIF tiles, several levels, sizes that are no tile multiple) and every file
 * in {@code ../shared/fixtures/slides}.
 */
class DirectTiffReaderTest {

    @TempDir Path dir;

    @Test
    void cmu1SmallRegionIsReadDirectlyAndPixelIdentical() {
        assertThat(compareEverywhere(TestSlides.cmu1SmallRegion(), 256, 200)).containsExactly(1.0);
    }

    @Test
    void syntheticGenericTiffPyramidIsPixelIdenticalOnEveryLevel() throws IOException {
        Path slide = synthetic(SyntheticSlideWriter.Style.GENERIC_TIFF, 3000, 2200, 4);
        // Levels 0 and 1 (downsample 4) start on whole pixels; levels 2 and 3 (188 x 138 and
        // 47 x 35 px, downsamples 15.9 and 63.2) do not, except at the origin, so most of
        // their regions go through OpenSlide.
        double[] share = compareEverywhere(slide, 256, 120);
        assertThat(share[0]).isEqualTo(1.0);
        assertThat(share[1]).isEqualTo(1.0);
        assertThat(share[2]).isLessThan(0.5);
    }

    @Test
    void syntheticAperioPyramidIsPixelIdenticalOnEveryLevel() throws IOException {
        Path slide = synthetic(SyntheticSlideWriter.Style.APERIO, 2048, 1536, 3);
        // Every level's downsample is a whole number (1, 4, 16): everything is read directly.
        assertThat(compareEverywhere(slide, 224, 120)).containsExactly(1.0, 1.0, 1.0);
    }

    @Test
    void sharedFixtureSlidesReadTheSameThroughBothReaders() {
        // small.svs: Aperio, one 16x16 level in a 64 px tile (every region is an edge region).
        assertThat(compareEverywhere(TestSlides.slideFixture("small.svs"), 8, 20))
                .containsExactly(1.0);
        // NDPI (JPEG strips, not tiles) and boxes.tiff (Deflate tiles) are not for the direct
        // reader: every region goes through OpenSlide. (Their pixels are not compared: two
        // OpenSlide handles on boxes.tiff already disagree on some pixels of level 2.)
        for (String name : List.of("hamamatsu-fluorescence.ndpi", "boxes.tiff")) {
            try (OpenSlide slide =
                    OpenSlide.open(TestSlides.slideFixture(name), SlideReader.AUTO)) {
                assertThat(slide.reader()).isEqualTo("openslide");
                slide.readRegion(new int[64 * 64], 0, 0, 0, 64, 64);
                assertThat(slide.regionsReadDirectly()).isZero();
                assertThat(slide.regionsReadThroughOpenSlide()).isEqualTo(1);
            }
        }
    }

    @Test
    void aCorruptTileFailsWithOpenSlidesTypedError() {
        Path bad = TestSlides.slideFixture("unreadable.svs");
        SlideStreamException viaOpenSlide = readFails(bad, SlideReader.OPENSLIDE);
        SlideStreamException viaAuto = readFails(bad, SlideReader.AUTO);
        assertThat(viaAuto.code()).isEqualTo(viaOpenSlide.code());
        assertThat(viaAuto.getMessage()).isEqualTo(viaOpenSlide.getMessage());
    }

    @Test
    void anUnopenableFileFailsTheSameThroughBothReaders() {
        Path bad = TestSlides.slideFixture("unopenable.tiff");
        assertThatThrownBy(() -> OpenSlide.open(bad, SlideReader.AUTO).close())
                .isInstanceOf(SlideStreamException.class)
                .hasMessage(catchMessage(() -> OpenSlide.open(bad, SlideReader.OPENSLIDE).close()));
    }

    /**
     * Four threads over random regions with a tile cache of four tiles: tiles are evicted and their
     * arrays reused for other tiles all the time, and no thread ever sees another tile's pixels.
     */
    @Test
    void concurrentReadersGetTheSamePixels() throws Exception {
        Path slide = TestSlides.cmu1SmallRegion();
        List<long[]> regions = regions(TestSlides.CMU1_WIDTH, TestSlides.CMU1_HEIGHT, 1, 256, 64);
        try (OpenSlide reference = OpenSlide.open(slide, SlideReader.OPENSLIDE);
                OpenSlide direct = OpenSlide.open(slide, SlideReader.AUTO, 4L * 240 * 240 * 4)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    results.add(pool.submit(() -> mismatches(reference, direct, 0, regions)));
                }
                for (Future<Integer> f : results) {
                    assertThat(f.get()).isZero();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(direct.regionsReadDirectly()).isEqualTo(4L * regions.size());
        }
    }

    /**
     * Flink cancels tasks and the embedder cancels timed-out reads by interrupting threads, and an
     * interrupted read closes a FileChannel for every thread: the interrupted read still gets
     * OpenSlide's pixels, and the reads after it are direct again on a reopened channel.
     */
    @Test
    void anInterruptedReadDoesNotBreakTheSlideForOtherReads() throws Exception {
        Path slide = TestSlides.cmu1SmallRegion();
        try (OpenSlide reference = OpenSlide.open(slide, SlideReader.OPENSLIDE);
                OpenSlide direct = OpenSlide.open(slide, SlideReader.AUTO)) {
            int[] expected = new int[256 * 256];
            int[] actual = new int[256 * 256];
            reference.readRegion(expected, 0, 0, 0, 256, 256);
            Thread interrupted =
                    new Thread(
                            () -> {
                                Thread.currentThread().interrupt();
                                direct.readRegion(actual, 0, 0, 0, 256, 256);
                            });
            interrupted.start();
            interrupted.join();
            assertThat(actual).isEqualTo(expected);
            assertThat(direct.regionsReadThroughOpenSlide()).isEqualTo(1);

            // Tiles not decoded yet: read from the file again, directly.
            reference.readRegion(expected, 1024, 1024, 0, 256, 256);
            direct.readRegion(actual, 1024, 1024, 0, 256, 256);
            assertThat(actual).isEqualTo(expected);
            assertThat(direct.regionsReadDirectly()).isEqualTo(1);
        }
    }

    /**
     * Compares both readers on every level with regions of {@code size} px: aligned to the tile
     * grid, at random origins, crossing the right and bottom edges, beyond them, single pixels and
     * the whole level where it fits. Returns, per level, the share of regions the direct reader
     * served (the rest went through OpenSlide).
     */
    private static double[] compareEverywhere(Path file, int size, int randomPerLevel) {
        try (OpenSlide reference = OpenSlide.open(file, SlideReader.OPENSLIDE);
                OpenSlide direct = OpenSlide.open(file, SlideReader.AUTO)) {
            double[] share = new double[reference.levelCount()];
            for (int level = 0; level < reference.levelCount(); level++) {
                double ds = reference.levelDownsample(level);
                List<long[]> regions =
                        regions(
                                reference.levelWidth(level),
                                reference.levelHeight(level),
                                ds,
                                size,
                                randomPerLevel);
                long before = direct.regionsReadDirectly();
                assertThat(mismatches(reference, direct, level, regions))
                        .as("%s level %d: regions with a differing pixel", file, level)
                        .isZero();
                share[level] = (direct.regionsReadDirectly() - before) / (double) regions.size();
            }
            return share;
        }
    }

    /** Regions as {x0, y0 (level 0), w, h}. */
    private static List<long[]> regions(long w, long h, double ds, int size, int random) {
        List<long[]> out = new ArrayList<>();
        long step = Math.max(1, size);
        for (long y = 0; y < h; y += step * 3) {
            for (long x = 0; x < w; x += step * 3) {
                out.add(region(x, y, ds, size, size));
            }
        }
        SplittableRandom rnd = new SplittableRandom(w * 31 + h);
        for (int i = 0; i < random; i++) {
            out.add(region(rnd.nextLong(w), rnd.nextLong(h), ds, size, size));
        }
        out.add(region(Math.max(0, w - size / 2), Math.max(0, h - size / 3), ds, size, size));
        out.add(region(w + 5, 0, ds, size, size));
        out.add(region(0, h - 1, ds, size, 3));
        out.add(region(w - 1, h - 1, ds, 1, 1));
        out.add(region(rnd.nextLong(w), rnd.nextLong(h), ds, 1, 1));
        if (w <= 2048 && h <= 2048) {
            out.add(region(0, 0, ds, (int) w, (int) h));
        }
        return out;
    }

    /** A region whose level origin is (lx, ly): level-0 coordinates as the tiler computes them. */
    private static long[] region(long lx, long ly, double ds, int w, int h) {
        return new long[] {Math.round(lx * ds), Math.round(ly * ds), w, h};
    }

    private static int mismatches(
            OpenSlide reference, OpenSlide direct, int level, List<long[]> regions) {
        int bad = 0;
        for (long[] r : regions) {
            int w = (int) r[2];
            int h = (int) r[3];
            int[] expected = new int[w * h];
            int[] actual = new int[w * h];
            Arrays.fill(actual, 0x123456);
            reference.readRegion(expected, r[0], r[1], level, w, h);
            direct.readRegion(actual, r[0], r[1], level, w, h);
            if (!Arrays.equals(expected, actual)) {
                int i = Arrays.mismatch(expected, actual);
                System.out.printf(
                        "DEBUG %s %s lvl %d i=%d %06x %06x%n",
                        reference, Arrays.toString(r), level, i, expected[i], actual[i]);
                bad++;
            }
        }
        return bad;
    }

    private static SlideStreamException readFails(Path file, SlideReader reader) {
        try (OpenSlide slide = OpenSlide.open(file, reader)) {
            int[] dest = new int[256 * 256];
            try {
                slide.readRegion(dest, 0, 0, 0, 256, 256);
            } catch (SlideStreamException e) {
                return e;
            }
            throw new AssertionError(file + " read without error through " + reader);
        }
    }

    private static String catchMessage(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a failure");
    }

    private Path synthetic(SyntheticSlideWriter.Style style, long w, long h, int levels)
            throws IOException {
        Path file =
                Files.createDirectories(dir)
                        .resolve(style == SyntheticSlideWriter.Style.APERIO ? "s.svs" : "s.tiff");
        SyntheticSlideWriter.builder()
                .size(w, h)
                .levels(levels)
                .tileSize(256)
                .style(style)
                .tissue(SyntheticSlideWriter.demoLayout(w, h))
                .seed(7)
                .build()
                .write(file);
        return file;
    }
}
