package io.slidestream.cli;

import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.slide.ReadBenchmark;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TileGeometry;
import io.slidestream.tiling.TilePlan;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench read SLIDE}: plans the slide, then prints tiles/s for {@code readRegion}
 * alone and for read + preprocess over every tile of the plan's grid (tissue or not), with each
 * thread count sharing one OpenSlide handle. The measuring is {@link ReadBenchmark}'s.
 */
@Command(
        name = "read",
        mixinStandardHelpOptions = true,
        description = {
            "Tiles/s for reading tiles (readRegion) and for read + preprocess to the model tensor,"
                    + " with threads sharing one OpenSlide handle per slide, as the job does.",
            "Every grid tile of the plan is read once per pass, tissue or not. Each pass opens a"
                    + " fresh handle, so OpenSlide's tile cache starts empty; the file itself comes"
                    + " from the OS page cache after the first pass."
        })
final class BenchReadCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "SLIDE", description = "The slide file (any format OpenSlide reads).")
    String slide;

    @Mixin SlideOptions slideOptions;

    @Option(
            names = "--threads",
            paramLabel = "N",
            split = ",",
            description = "Thread counts to measure, sharing one handle (default: 1,2).")
    List<Integer> threads = List.of(1, 2);

    @Option(
            names = "--passes",
            paramLabel = "N",
            description = "Measured passes per row, after one warm-up pass (default: 5).")
    int passes = 5;

    @Option(
            names = "--input-px",
            paramLabel = "N",
            description = "Model input size the tiles are preprocessed to (default: 224).")
    int inputPx = TilePreprocessor.DEFAULT_INPUT_SIZE;

    @Override
    public Integer call() {
        SlideOpener opener = slideOptions.opener();
        PlannedSlide planned =
                PlannedSlide.plan(
                        opener, slide, slideOptions.tilingConfig(), slideOptions.defaultMpp());
        TilePlan plan = planned.plan();
        TileGeometry g = plan.geometry();
        ReadBenchmark.Tiles tiles =
                ReadBenchmark.Tiles.grid(
                        g.columns(), g.rows(), g.step0(), g.readLevel(), g.readPx());
        ReadBenchmark bench =
                new ReadBenchmark(
                        () -> opener.open(slide), tiles, new TilePreprocessor(inputPx), passes);

        PrintWriter out = spec.commandLine().getOut();
        printHeader(out, planned, tiles);
        out.flush();
        List<ReadBenchmark.Result> results = bench.run(threads);
        out.printf(
                Locale.ROOT,
                "%-18s %7s %12s %9s %9s %9s %13s%n",
                "mode",
                "threads",
                "tiles/s med",
                "min",
                "max",
                "vs 1 thr",
                "cpu us/tile");
        for (ReadBenchmark.Result r : results) {
            out.printf(
                    Locale.ROOT,
                    "%-18s %7d %12.0f %9.0f %9.0f %9s %13.0f%n",
                    r.mode().label(),
                    r.threads(),
                    r.medianTilesPerSecond(),
                    r.worstTilesPerSecond(),
                    r.bestTilesPerSecond(),
                    speedup(results, r),
                    r.medianCpuMicrosPerTile());
        }
        out.flush();
        return 0;
    }

    /** Median of this row over the same mode's single-thread median, when that row was run. */
    private static String speedup(List<ReadBenchmark.Result> results, ReadBenchmark.Result row) {
        for (ReadBenchmark.Result r : results) {
            if (r.mode() == row.mode() && r.threads() == 1) {
                return String.format(
                        Locale.ROOT,
                        "%.2fx",
                        row.medianTilesPerSecond() / r.medianTilesPerSecond());
            }
        }
        return "-";
    }

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
                "method: 1 warm-up + %d measured passes per row; each pass opens a fresh OpenSlide"
                        + " handle (empty tile cache, file bytes from the OS page cache); threads"
                        + " share that one handle%n",
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
