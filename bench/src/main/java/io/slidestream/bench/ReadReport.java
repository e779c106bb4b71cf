package io.slidestream.bench;

import io.slidestream.slide.SlideReader;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures {@code bench read} prints from the rows of {@link ReadBenchmark}. */
public final class ReadReport {

    private ReadReport() {}

    /** GPFM tiles/s on one H100 (torch.compile fp16, measured; ../shared/DESIGN.md). */
    public static final int H100_TILES_PER_SECOND = 2600;

    private static double cpuMicros(List<ReadBenchmark.Result> results, ReadBenchmark.Mode mode) {
        if (results == null) {
            return Double.NaN;
        }
        for (ReadBenchmark.Result r : results) {
            if (r.mode() == mode && r.threads() == 1) {
                return r.medianCpuMicrosPerTile();
            }
        }
        return Double.NaN;
    }

    /** Median of this row over the same mode's single-thread median, when that row was run. */
    public static String speedup(List<ReadBenchmark.Result> results, ReadBenchmark.Result row) {
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

    /**
     * CPU microseconds per tile at one thread, per reader and mode, the ratio OpenSlide / direct,
     * and the cores that read + preprocess for one H100 would take.
     */
    public static void printSummary(PrintWriter out, Map<String, List<ReadBenchmark.Result>> all) {
        out.println("cpu us per tile (1 thread, median):");
        out.printf(Locale.ROOT, "  %-18s %10s %10s %8s%n", "", "openslide", "auto", "ratio");
        for (ReadBenchmark.Mode mode : ReadBenchmark.Mode.values()) {
            double os = cpuMicros(all.get(SlideReader.OPENSLIDE.key()), mode);
            double auto = cpuMicros(all.get(SlideReader.AUTO.key()), mode);
            out.printf(
                    Locale.ROOT,
                    "  %-18s %10s %10s %8s%n",
                    mode.label(),
                    Double.isNaN(os) ? "-" : String.format(Locale.ROOT, "%.0f", os),
                    Double.isNaN(auto) ? "-" : String.format(Locale.ROOT, "%.0f", auto),
                    Double.isNaN(os) || Double.isNaN(auto)
                            ? "-"
                            : String.format(Locale.ROOT, "%.2fx", os / auto));
        }
        for (Map.Entry<String, List<ReadBenchmark.Result>> e : all.entrySet()) {
            double us = cpuMicros(e.getValue(), ReadBenchmark.Mode.READ_PREPROCESS);
            double read = cpuMicros(e.getValue(), ReadBenchmark.Mode.READ);
            out.printf(
                    Locale.ROOT,
                    "%s: read is %.0f%% of read + preprocess; read + preprocess for one H100"
                            + " (%d tiles/s) takes %.1f cores%n",
                    e.getKey(),
                    100 * read / us,
                    H100_TILES_PER_SECOND,
                    H100_TILES_PER_SECOND * us / 1e6);
        }
    }
}
