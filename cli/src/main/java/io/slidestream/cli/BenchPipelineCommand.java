package io.slidestream.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.bench.NullModel;
import io.slidestream.bench.PipelineBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        PipelineBenchmark.Options o = new PipelineBenchmark.Options();
        o.slides = slides;
        o.slidePx = slidePx;
        o.resection = resection;
        o.model = model;
        o.nullModel = nullModel;
        o.nullModelDim = nullModelDim;
        o.warmRuns = warmRuns;
        o.parallelism = parallelism;
        o.workDir = workDir;
        o.overrides = overrides;
        // The run prints progress from several threads, as the demo does: straight to stdout.
        ObjectNode summary = PipelineBenchmark.run(o, System.out);
        if (summaryJson != null) {
            BenchEmbedCommand.writeSummary(summaryJson, summary);
        }
        return 0;
    }
}
