package io.slidestream.cli;

import io.slidestream.bench.TableSoak;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench soak}: runs {@link TableSoak} - months of Iceberg commits in minutes,
 * without and with the in-job maintenance - and prints the tables' state and timings side by side.
 * The iceberg.maintenance.* keys apply as in the job.
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        description =
                "Many Iceberg commits (one slide per checkpoint) without and with the job's table"
                        + " maintenance: files, snapshots, metadata size, commit and checkpoint"
                        + " times, dashboard query times in Spark.")
final class BenchSoakCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--commits", defaultValue = "2000", description = "Checkpoints (commits).")
    int commits;

    @Option(
            names = "--checkpoint-interval",
            defaultValue = "1s",
            converter = DurationConverter.class,
            description = "Checkpoint interval (default: ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--tiles", defaultValue = "64", description = "Tiles per slide.")
    int tiles;

    @Option(names = "--dim", defaultValue = "1024", description = "Embedding dimension (GPFM's).")
    int dimension;

    @Mixin JobConfigOptions config;

    @Option(
            names = "--work-dir",
            defaultValue = "bench-soak",
            description = "Where the two runs' tables go (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        PrintStream out = BenchEmbedCommand.printStreamOn(spec.commandLine().getOut());
        List<TableSoak.Figures> figures =
                new TableSoak(
                                workDir.toAbsolutePath(),
                                commits,
                                tiles,
                                dimension,
                                checkpointInterval,
                                config.load(),
                                out)
                        .run();
        if (summaryJson != null) {
            BenchEmbedCommand.writeSummary(summaryJson, figures);
            out.println("Figures written to " + summaryJson);
        }
        return 0;
    }
}
