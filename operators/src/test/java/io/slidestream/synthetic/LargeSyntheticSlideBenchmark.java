package io.slidestream.synthetic;

import io.slidestream.slide.OpenSlide;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;

/**
 * Writes a resection-sized synthetic slide (default 32,000 x 31,000 px, tissue everywhere: 15,125
 * tissue tiles of 256 px) and reports size and time; then checks that OpenSlide reads every level.
 * Run by hand with a small heap ({@code -Xmx256m}) to show that writing streams in constant memory:
 * {@code main [width height threads out.tiff]}.
 */
public final class LargeSyntheticSlideBenchmark {

    private LargeSyntheticSlideBenchmark() {}

    public static void main(String[] args) throws Exception {
        long width = args.length > 0 ? Long.parseLong(args[0]) : 32_000;
        long height = args.length > 1 ? Long.parseLong(args[1]) : 31_000;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Path out =
                args.length > 3
                        ? Path.of(args[3])
                        : Files.createTempFile("synthetic-large-", ".tiff");
        SyntheticSlideWriter writer =
                SyntheticSlideWriter.builder()
                        .size(width, height)
                        .mpp(0.5)
                        .threads(threads)
                        .tissue(0, 0, width, height)
                        .build();
        SyntheticSlideWriter.Result r = writer.write(out);
        System.out.printf(
                "%dx%d, %d levels, %d tissue tiles: %.1f MB in %.1f s (%d threads, max heap %d MB)%n",
                width,
                height,
                r.levels(),
                r.tissueTilesAtLevel0(),
                r.bytes() / 1e6,
                r.elapsedNanos() / 1e9,
                threads,
                Runtime.getRuntime().maxMemory() >> 20);
        try (OpenSlide slide = OpenSlide.open(out)) {
            System.out.printf(
                    "OpenSlide: %s, %d levels, mpp %s%n",
                    slide.vendor(), slide.levelCount(), slide.metadata(OptionalDouble.empty()));
            for (int level = 0; level < slide.levelCount(); level++) {
                int[] px = new int[256 * 256];
                slide.readRegion(px, width / 2, height / 2, level, 256, 256);
            }
        }
        if (args.length <= 3) {
            Files.delete(out);
        }
    }
}
