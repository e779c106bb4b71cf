package io.slidestream.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
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

/**
 * Synthetic slides through the whole embedded pipeline (Kafka, MiniCluster job, Milvus Lite,
 * Iceberg), compared with the standalone rate of its two heavy stages measured in the same run on
 * the same machine: read + preprocess (threads = slots, one shared handle) and the bare ONNX
 * Runtime loop; and the CPU the whole run costs per tile. With a {@link NullModel} the model costs
 * next to nothing, so that CPU is the pipeline's own: the cores one H100's tile rate would take
 * outside inference.
 */
public final class PipelineBenchmark {
    private PipelineBenchmark() {}

    /** What {@code bench pipeline} was asked for. */
    public static final class Options {
        public int slides = 3;
        public long slidePx = 4096;
        public boolean resection;
        public Path model;
        public boolean nullModel;
        public int nullModelDim = 1024;
        public int warmRuns;
        public int parallelism = 2;
        public Path workDir;
        public List<String> overrides = new ArrayList<>();
    }

    /** Runs the stages alone and then the pipeline, printing to {@code out}; the figures. */
    public static ObjectNode run(Options o, PrintStream out) throws Exception {
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        Path work = o.workDir != null ? o.workDir : home.resolve("bench-data");
        // Generated slides are cached between runs; each run's inbox holds only its own.
        Path slideCache = work.resolveSibling(work.getFileName() + "-slides");
        Path inbox = work.resolveSibling(work.getFileName() + "-inbox");
        if (o.nullModel && o.model != null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "give --model or --null-model, not both");
        }
        Path modelPath =
                o.nullModel
                        ? NullModel.write(
                                slideCache.resolveSibling(
                                        work.getFileName()
                                                + "-null-model-"
                                                + o.nullModelDim
                                                + ".onnx"),
                                TilePreprocessor.DEFAULT_INPUT_SIZE,
                                o.nullModelDim)
                        : o.model != null
                                ? o.model
                                : home.resolve(
                                        "operators/src/test/resources/gpfm-tiny/gpfm-tiny.onnx");
        Map<String, String> keys = ConfigLoader.parseOverrides(o.overrides);
        SlideReader reader =
                SlideReader.parse(
                        keys.getOrDefault(
                                SlideReader.OPTION.key(), SlideReader.OPTION.defaultValue()));

        List<Path> files = writeSlides(o, slideCache, out);
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
                        .run(ReadBenchmark.Mode.READ_PREPROCESS, o.parallelism);
        double readRate = read.medianTilesPerSecond();
        out.printf(
                Locale.ROOT,
                "read + preprocess alone (%d threads): %.1f tiles/s%n",
                o.parallelism,
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
        DemoRun.Options demo = new DemoRun.Options();
        demo.workDir = work;
        demo.defaultWorkDir = o.workDir == null;
        demo.slidesDir = inbox;
        demo.model = modelPath;
        demo.parallelism = o.parallelism;
        demo.timeout = Duration.ofHours(o.resection ? 12 : 1);
        demo.overrides = keys;
        for (int run = 1; run <= o.warmRuns; run++) {
            ObjectNode warm = DemoRun.run(demo, out);
            out.printf(
                    Locale.ROOT,
                    "%nwarm-up run %d of %d: %.1f tiles/s, %d us CPU per tile (not counted)%n%n",
                    run,
                    o.warmRuns,
                    warm.path("pipeline_tiles_per_second").asDouble(),
                    warm.path("pipeline_cpu_us_per_tile").asLong());
        }
        ObjectNode summary = DemoRun.run(demo, out);

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
                    o.nullModel ? "null model (D " + o.nullModelDim + ")" : modelPath.toString());
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
                    o.nullModel ? "the null model" : "the model",
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
        return summary;
    }

    /** This run's synthetic slides in {@code cache}, written when not there yet. */
    private static List<Path> writeSlides(Options o, Path cache, PrintStream out) throws Exception {
        Files.createDirectories(cache);
        List<Path> files = new ArrayList<>();
        int count = o.resection ? 1 : o.slides;
        long w = o.resection ? 32_000 : o.slidePx;
        long h = o.resection ? 31_000 : o.slidePx;
        for (int i = 0; i < count; i++) {
            Path file = cache.resolve(String.format(Locale.ROOT, "bench-%s-%02d.tiff", w, i));
            if (!Files.isRegularFile(file)) {
                SyntheticSlideWriter writer =
                        SyntheticSlideWriter.builder()
                                .size(w, h)
                                .mpp(0.5)
                                .seed(100 + i)
                                .tissue(
                                        o.resection
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
