package io.slidestream.cli;

import io.slidestream.bench.ChaosSoak;
import io.slidestream.local.DemoRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench chaos}: the long fault run on the local multi-process cluster ({@link ChaosSoak}),
 * printing per fault the time from the fault to full throughput again.
 */
@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description =
                "Run SlideStream on a local multi-process Flink cluster (object store, REST"
                        + " catalog, Kafka, Milvus Lite, 1 JobManager + 2 TaskManagers) under a"
                        + " steady feed through TaskManager kills, store outages, a broker restart"
                        + " and a savepoint upgrade; print, per fault, the time to full throughput"
                        + " again, and check every slide exactly once in every store. Needs the"
                        + " testbed and the job jar: mvn -DskipTests install.")
final class BenchChaosCommand implements Callable<Integer> {

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Default: chaos-data.")
    Path workDir;

    @Option(
            names = "--model",
            paramLabel = "M.onnx",
            description = "Tile model (default gpfm-tiny).")
    Path model;

    @Option(
            names = "--outage",
            paramLabel = "DURATION",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "How long the object store stays down (default ${DEFAULT-VALUE}).")
    Duration outage;

    @Option(
            names = "--backlog",
            defaultValue = "4",
            description = "Slides kept in flight by the feed (default ${DEFAULT-VALUE}).")
    int backlog;

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        ChaosSoak.Options o = new ChaosSoak.Options();
        o.workDir = workDir != null ? workDir : home.resolve("chaos-data");
        DemoRun.prepareWorkDir(o.workDir.toAbsolutePath(), workDir == null);
        o.model =
                model != null
                        ? model
                        : home.resolve("operators/src/test/resources/gpfm-tiny/gpfm-tiny.onnx");
        o.outage = outage;
        o.backlog = backlog;
        ChaosSoak.run(o, System.out);
        return 0;
    }
}
