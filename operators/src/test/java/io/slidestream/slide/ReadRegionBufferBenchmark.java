package io.slidestream.slide;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.slidestream.testing.TestSlides;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;

/**
 * Compares ways of getting read_region pixels into a Java {@code int[]} (run by hand: {@code main}
 * with the test class path). OpenSlide's tile cache is warm, so what is left is binding overhead:
 * (a) the production path, a reused per-thread native buffer plus a bulk copy; (b) a new native
 * buffer per call; (c) JNA passing the {@code int[]} itself, which copies it out and back per call.
 */
public final class ReadRegionBufferBenchmark {

    /** The same function with a Java array parameter, for variant (c). */
    interface ArrayBinding extends Library {
        void openslide_read_region(
                Pointer osr, int[] dest, long x, long y, int level, long w, long h);
    }

    private ReadRegionBufferBenchmark() {}

    public static void main(String[] args) {
        int tile = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        String file = TestSlides.cmu1SmallRegion().toString();
        OpenSlideLibrary lib = OpenSlideLibrary.instance();
        ArrayBinding arrays =
                Native.load(
                        "libopenslide.so.0",
                        ArrayBinding.class,
                        Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));
        Pointer osr = lib.openslide_open(file);
        int n = tile * tile;
        int[] dest = new int[n];
        Memory reused = new Memory(n * 4L);
        // Thread CPU time, native work included: less distorted by other load than wall time.
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long[] best = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
        try (OpenSlide slide = OpenSlide.open(TestSlides.cmu1SmallRegion())) {
            // Interleaved repeats, best of each: the build machine is shared and noisy.
            for (int repeat = 0; repeat < 15; repeat++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < rounds; i++) {
                    slide.readRegion(dest, 1024, 1024, 0, tile, tile);
                }
                long t1 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < rounds; i++) {
                    try (Memory fresh = new Memory(n * 4L)) {
                        lib.openslide_read_region(osr, fresh, 1024, 1024, 0, tile, tile);
                        fresh.read(0, dest, 0, n);
                    }
                    OpenSlide.premultipliedArgbToRgbOverWhite(dest, n);
                }
                long t2 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < rounds; i++) {
                    arrays.openslide_read_region(osr, dest, 1024, 1024, 0, tile, tile);
                    OpenSlide.premultipliedArgbToRgbOverWhite(dest, n);
                }
                long t3 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < rounds; i++) {
                    lib.openslide_read_region(osr, reused, 1024, 1024, 0, tile, tile);
                }
                long t4 = cpu.getCurrentThreadCpuTime();
                best[0] = Math.min(best[0], t1 - t0);
                best[1] = Math.min(best[1], t2 - t1);
                best[2] = Math.min(best[2], t3 - t2);
                best[3] = Math.min(best[3], t4 - t3);
            }
            System.out.printf(
                    "%d px cached reads, best CPU us/read: production %.1f | new Memory %.1f | int[]"
                            + " param %.1f | native call alone %.1f%n",
                    tile,
                    best[0] / 1e3 / rounds,
                    best[1] / 1e3 / rounds,
                    best[2] / 1e3 / rounds,
                    best[3] / 1e3 / rounds);
        } finally {
            lib.openslide_close(osr);
        }
    }
}
