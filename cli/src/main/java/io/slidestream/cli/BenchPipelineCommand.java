package io.slidestream.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.bench.EmbedBenchmark;
import io.slidestream.bench.NullModel;
import io.slidestream.bench.ReadBenchmark;
import io.slidestream.bench.ReadReport;
import io.slidestream.config.ConfigLoader;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.local.DemoRun;
import io.slidestream.local.RunInbox;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import io.slidestream.tiling.TilingConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code slidestream bench pipeline}: synthetic slides through the whole embedded pipeline (Kafka,
 * MiniCluster job, Milvus Lite, Iceberg), compared with the standalone rate of its two heavy stages
 * measured in the same run on the same machine: read + preprocess (threads = slots, one shared
 * handle) and the bare ONNX Runtime loop; and the CPU the whole run costs per tile. With {@code
 * --null-model} the model costs next to nothing ({@link NullModel}), so that CPU is the pipeline's
 * own: the cores one H100's tile rate would take outside inference.
 */
@Command(
        name = "pipeline",
        mixinStandardHelpOptions = true,
        description =
                "End-to-end tiles/s of the embedded pipeline vs. its slowest stage alone, event to"
                        + " committed result latency, peak memory.")
final class BenchPipelineCommand implements Callable<Integer> {

    @Option(names = "--slides", defaultValue = "3", description = "Synthetic slides (default 3).")
    int slides;

    @Option(
            names = "--slide-px",
            defaultValue = "4096",
            description = "Edge of each synthetic slide in pixels at 0.5 um/px (default 4096).")
    int slidePx;

    @Option(
            names = "--resection",
            description =
                    "One resection-sized slide (about 15,000 tissue tiles, 32,000 x 31,000 px)"
                            + " instead: the memory check. Run with SLIDESTREAM_JAVA_OPTS=-Xmx4g.")
    boolean resection;

    @Option(
            names = "--model",
            paramLabel = "M.onnx",
            description = "Tile model (default gpfm-tiny).")
    Path model;

    @Option(
            names = "--null-model",
            description =
                    "Use a near-zero-cost model with GPFM's contract ([N,3,224,224] -> [N,D]: the"
                            + " channel means times a fixed matrix) to measure what the pipeline"
                            + " itself costs per tile outside inference.")
    boolean nullModel;

    @Option(
            names = "--null-model-dim",
            defaultValue = "1024",
            paramLabel = "D",
            description = "Embedding size of --null-model (default 1024, GPFM's).")
    int nullModelDim;

    @Option(
            names = "--warm-runs",
            defaultValue = "0",
            paramLabel = "N",
            description =
                    "Run the whole pipeline N times first in this JVM (fresh stores each time) and"
                            + " measure the run after: the steady state of a long-running job,"
                            + " without the JIT compiling Flink's, Iceberg's and Parquet's code"
                            + " (default 0).")
    int warmRuns;

    @Option(names = "--parallelism", defaultValue = "2", description = "Slots (default 2).")
    int parallelism;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Default: bench-data.")
    Path workDir;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures here.")
    Path summaryJson;

    @Option(names = "-D", paramLabel = "key=value", description = "Override a job option.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        // The run prints progress from several threads, as the demo does: straight to stdout.
        PrintStream out = System.out;
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        Path work = workDir != null ? workDir : home.resolve("bench-data");
        // Generated slides are cached between runs; each run's inbox holds only its own.
        Path slideCache = work.resolveSibling(work.getFileName() + "-slides");
        Path inbox = work.resolveSibling(work.getFileName() + "-inbox");
        if (nullModel && model != null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "give --model or --null-model, not both");
        }
        Path modelPath =
                nullModel
                        ? NullModel.write(
                                slideCache.resolveSibling(
                                        work.getFileName()
                                                + "-null-model-"
                                                + nullModelDim
                                                + ".onnx"),
                                TilePreprocessor.DEFAULT_INPUT_SIZE,
                                nullModelDim)
                        : model != null
                                ? model
                                : home.resolve(
                                        "operators/src/test/resources/gpfm-tiny/gpfm-tiny.onnx");
        Map<String, String> keys = ConfigLoader.parseOverrides(overrides);
        SlideReader reader =
                SlideReader.parse(
                        keys.getOrDefault(
                                SlideReader.OPTION.key(), SlideReader.OPTION.defaultValue()));

        List<Path> files = writeSlides(slideCache, out);
        RunInbox.prepare(inbox, files);

        // Stage 1 alone: read + preprocess of the first slide's tissue tiles, threads = slots.
        TilingConfig tiling = TilingConfig.defaults();
        SlideOpener opener = SlideOpener.unrestricted().withReader(reader);
        PlannedSlide planned =
                PlannedSlide.plan(opener, files.get(0).toString(), tiling, OptionalDouble.empty());
        TilePlan plan = planned.plan();
        ReadBenchmark.Tiles tiles =
                new ReadBenchmark.Tiles(
                        plan.tileXs(), plan.tileYs(), plan.readLevel(), plan.readPx());
        ReadBenchmark.Result read =
                new ReadBenchmark(() -> opener.open(files.get(0)), tiles, new TilePreprocessor(), 3)
                        .run(ReadBenchmark.Mode.READ_PREPROCESS, parallelism);
        double readRate = read.medianTilesPerSecond();
        out.printf(
                Locale.ROOT,
                "read + preprocess alone (%d threads): %.1f tiles/s%n",
                parallelism,
                readRate);

        // Stage 2 alone: the bare ONNX Runtime loop at the job's batch size.
        InferenceConfig inference =
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, modelPath)
                        .set(InferenceOptions.BATCH_SIZE, 16)
                        .build();
        EmbedBenchmark.Figures embed = EmbedBenchmark.run(inference, 20, 3, out);
        double embedRate = embed.bareTilesPerSecond;

        // The whole pipeline.
        DemoRun.Options o = new DemoRun.Options();
        o.workDir = work;
        o.defaultWorkDir = workDir == null;
        o.slidesDir = inbox;
        o.model = modelPath;
        o.parallelism = parallelism;
        o.timeout = Duration.ofHours(resection ? 12 : 1);
        o.overrides = keys;
        for (int run = 1; run <= warmRuns; run++) {
            ObjectNode warm = DemoRun.run(o, out);
            out.printf(
                    Locale.ROOT,
                    "%nwarm-up run %d of %d: %.1f tiles/s, %d us CPU per tile (not counted)%n%n",
                    run,
                    warmRuns,
                    warm.path("pipeline_tiles_per_second").asDouble(),
                    warm.path("pipeline_cpu_us_per_tile").asLong());
        }
        ObjectNode summary = DemoRun.run(o, out);

        double pipelineRate = summary.path("pipeline_tiles_per_second").asDouble();
        double slowest = Math.min(readRate, embedRate);
        String slowestName = readRate < embedRate ? "read + preprocess" : "embed";
        ObjectNode figures = summary.putObject("benchmark");
        figures.put("read_preprocess_tiles_per_second", round(readRate));
        figures.put("embed_bare_tiles_per_second", round(embedRate));
        figures.put("slowest_stage", slowestName);
        figures.put("pipeline_tiles_per_second", round(pipelineRate));
        figures.put("ratio", Math.round(pipelineRate / slowest * 1000) / 1000.0);
        double cpuPerTile = summary.path("pipeline_cpu_us_per_tile").asDouble(Double.NaN);
        if (!Double.isNaN(cpuPerTile)) {
            figures.put(
                    "model",
                    nullModel ? "null model (D " + nullModelDim + ")" : modelPath.toString());
            figures.put("cpu_us_per_tile", Math.round(cpuPerTile));
            figures.put(
                    "cores_per_h100",
                    Math.round(ReadReport.H100_TILES_PER_SECOND * cpuPerTile / 1e5) / 10.0);
        }
        out.println();
        out.printf(
                Locale.ROOT,
                "end to end %.1f tiles/s | slowest stage alone (%s) %.1f tiles/s | ratio %.2f"
                        + " (target >= 0.8) | median event -> committed result %.2f s | peak RSS"
                        + " %d MiB | heap max %d MiB%n",
                pipelineRate,
                slowestName,
                slowest,
                pipelineRate / slowest,
                summary.path("median_seconds_to_result").asDouble(),
                summary.path("peak_rss_mib").asLong(),
                Runtime.getRuntime().maxMemory() >> 20);
        if (!Double.isNaN(cpuPerTile)) {
            out.printf(
                    Locale.ROOT,
                    "pipeline CPU per tile, first tile to last result, everything in this process"
                            + " and its children (Flink, Kafka broker, Milvus Lite, Iceberg,"
                            + " checkpoints, %s): %.0f us (this JVM %d, Milvus Lite %d); one H100"
                            + " (%d tiles/s) would need %.1f cores%n",
                    nullModel ? "the null model" : "the model",
                    cpuPerTile,
                    summary.path("pipeline_jvm_cpu_us_per_tile").asLong(),
                    summary.path("pipeline_milvus_lite_cpu_us_per_tile").asLong(),
                    ReadReport.H100_TILES_PER_SECOND,
                    ReadReport.H100_TILES_PER_SECOND * cpuPerTile / 1e6);
            summary.path("pipeline_jvm_cpu_us_per_tile_by_role")
                    .fields()
                    .forEachRemaining(
                            e ->
                                    out.printf(
                                            Locale.ROOT,
                                            "  %-52s %7d us/tile%n",
                                            e.getKey(),
                                            e.getValue().asLong()));
        }
        out.flush();
        if (summaryJson != null) {
            BenchEmbedCommand.writeSummary(summaryJson, summary);
        }
        return 0;
    }

    /** This run's synthetic slides in {@code cache}, written when not there yet. */
    private List<Path> writeSlides(Path cache, PrintStream out) throws Exception {
        Files.createDirectories(cache);
        List<Path> files = new ArrayList<>();
        int count = resection ? 1 : slides;
        long w = resection ? 32_000 : slidePx;
        long h = resection ? 31_000 : slidePx;
        for (int i = 0; i < count; i++) {
            Path file = cache.resolve(String.format(Locale.ROOT, "bench-%s-%02d.tiff", w, i));
            if (!Files.isRegularFile(file)) {
                SyntheticSlideWriter writer =
                        SyntheticSlideWriter.builder()
                                .size(w, h)
                                .mpp(0.5)
                                .seed(100 + i)
                                .tissue(
                                        resection
                                                ? List.of(
                                                        new SyntheticSlideWriter.Region(
                                                                0, 0, 32_000, 31_000))
                                                : SyntheticSlideWriter.demoLayout(w, h))
                                .build();
                SyntheticSlideWriter.Result r = writer.write(file);
                out.printf(
                        Locale.ROOT,
                        "wrote %s: %d tissue tiles, %.1f MB in %.1f s%n",
                        file.getFileName(),
                        r.tissueTilesAtLevel0(),
                        r.bytes() / 1e6,
                        r.elapsedNanos() / 1e9);
            }
            files.add(file);
        }
        return files;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
