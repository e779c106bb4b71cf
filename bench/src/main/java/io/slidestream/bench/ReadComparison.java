package io.slidestream.bench;

import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench read}: the same tile plan read through each {@link SlideReader} (and the direct
 * reader at half scale) by 1..N threads sharing one handle, as the job reads; prints a row per
 * reader, mode and thread count, which reader served the reads, the summary and what float16 models
 * cost the reader threads.
 */
public final class ReadComparison {
    private final String slide;
    private final SlideOpener opener;
    private final List<SlideReader> readers;
    private final List<Integer> threads;
    private final int passes;
    private final boolean halfScale;
    private final int inputPx;
    private final int warmUpTiles;
    private boolean float16Costs = true;

    public ReadComparison(
            String slide,
            SlideOpener opener,
            List<SlideReader> readers,
            List<Integer> threads,
            int passes,
            boolean halfScale,
            int inputPx,
            int warmUpTiles) {
        this.slide = slide;
        this.opener = opener;
        this.readers = List.copyOf(readers);
        this.threads = List.copyOf(threads);
        this.passes = passes;
        this.halfScale = halfScale;
        this.inputPx = inputPx;
        this.warmUpTiles = warmUpTiles;
    }

    /** Leaves out the float16 cost line (about 10 s of measuring), or not. */
    public ReadComparison float16Costs(boolean measure) {
        this.float16Costs = measure;
        return this;
    }

    /**
     * Measures every row of {@code tiles} of the {@code planned} slide and prints to {@code out}.
     */
    public void run(PlannedSlide planned, ReadBenchmark.Tiles tiles, PrintWriter out) {
        printHeader(out, planned, tiles);
        out.printf(
                Locale.ROOT,
                "%-10s %-18s %7s %12s %9s %9s %9s %13s%n",
                "reader",
                "mode",
                "threads",
                "tiles/s med",
                "min",
                "max",
                "vs 1 thr",
                "cpu us/tile");
        out.flush();
        Map<String, List<ReadBenchmark.Result>> all = new LinkedHashMap<>();
        Map<String, String> served = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        readers.forEach(r -> rows.add(r.key()));
        if (halfScale) {
            rows.add(HALF);
        }
        for (String row : rows) {
            SlideReader reader = row.equals(HALF) ? SlideReader.AUTO : SlideReader.parse(row);
            SlideOpener readerOpener = opener.withReader(reader);
            AtomicReference<OpenSlide> last = new AtomicReference<>();
            ReadBenchmark bench =
                    new ReadBenchmark(
                                    () -> {
                                        OpenSlide s = readerOpener.open(slide);
                                        last.set(s);
                                        return s;
                                    },
                                    tiles,
                                    new TilePreprocessor(inputPx),
                                    passes,
                                    row.equals(HALF))
                            .warmUpTiles(warmUpTiles);
            List<ReadBenchmark.Result> results = bench.run(threads);
            all.put(row, results);
            OpenSlide s = last.get();
            served.put(
                    row,
                    String.format(
                            Locale.ROOT,
                            "%s: %s, last pass %d regions decoded directly, %d through OpenSlide",
                            row,
                            s.reader(),
                            s.regionsReadDirectly(),
                            s.regionsReadThroughOpenSlide()));
            for (ReadBenchmark.Result r : results) {
                out.printf(
                        Locale.ROOT,
                        "%-10s %-18s %7d %12.0f %9.0f %9.0f %9s %13.0f%n",
                        row,
                        r.mode().label(),
                        r.threads(),
                        r.medianTilesPerSecond(),
                        r.worstTilesPerSecond(),
                        r.bestTilesPerSecond(),
                        ReadReport.speedup(results, r),
                        r.medianCpuMicrosPerTile());
            }
            out.flush();
        }
        served.values().forEach(line -> out.println("served by " + line));
        ReadReport.printSummary(out, all);
        if (float16Costs) {
            printFloat16Costs(out, planned.plan().readPx());
        }
        out.flush();
    }

    /**
     * What preprocessing straight to float16 costs the reader threads, and what converting float32
     * tensors would cost the one batch thread that feeds the GPU, for a model that takes float16.
     */
    private void printFloat16Costs(PrintWriter out, int readPx) {
        PreprocessBenchmark.Float16Costs fp16 =
                PreprocessBenchmark.float16Costs(readPx, inputPx, Duration.ofSeconds(2));
        out.printf(
                Locale.ROOT,
                "float16 models: preprocess %d -> %d px straight to float16 %.0f us/tile (float32"
                        + " %.0f) on the reader threads; converting a float32 tensor on the batch"
                        + " thread instead would cost it %.0f us/tile (%.0f%% of its core at %d"
                        + " tiles/s)%n",
                readPx,
                inputPx,
                fp16.preprocessFloat16(),
                fp16.preprocessFloat32(),
                fp16.convertFloat32(),
                fp16.convertFloat32() * ReadReport.H100_TILES_PER_SECOND / 1e4,
                ReadReport.H100_TILES_PER_SECOND);
    }

    /** The row of the direct reader with slides.jpeg-half-scale. */
    private static final String HALF = "half";

    private void printHeader(PrintWriter out, PlannedSlide planned, ReadBenchmark.Tiles tiles) {
        SlideMetadata meta = planned.metadata();
        TilePlan plan = planned.plan();
        out.printf(
                Locale.ROOT,
                "%s: %s, %d x %d px, %.4f um/px%n",
                slide,
                meta.vendor(),
                meta.width(),
                meta.height(),
                meta.mpp());
        out.printf(
                Locale.ROOT,
                "tiles: all %d grid tiles (%d with tissue), %d px at %.3f um/px = %d px reads at"
                        + " level %d; preprocess to %d px%n",
                tiles.count(),
                plan.tissueTileCount(),
                plan.tilePx(),
                plan.targetMpp(),
                plan.readPx(),
                plan.readLevel(),
                inputPx);
        out.printf(
                Locale.ROOT,
                "method: %d warm-up + %d measured passes per row; each pass opens a fresh slide"
                        + " handle (empty tile caches, file bytes from the OS page cache); threads"
                        + " share that one handle%n",
                ReadBenchmark.warmUpPasses(warmUpTiles, tiles.count()),
                passes);
        out.printf(
                Locale.ROOT,
                "machine: %d cores, load average %.2f at start (tiles/s is wall clock and falls"
                        + " with load; cpu us/tile is the threads' CPU time per tile, a load-robust"
                        + " cost)%n",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
}
