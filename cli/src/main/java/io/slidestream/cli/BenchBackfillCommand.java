package io.slidestream.cli;

import io.slidestream.bench.BackfillBenchmark;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code slidestream bench backfill}: the live feed's latency with and without a backfill beside
 * it, both jobs' tiles/s, and the time from a promotion to the first search of the new model
 * ({@link BackfillBenchmark}).
 */
@Command(
        name = "backfill",
        mixinStandardHelpOptions = true,
        description =
                "On the embedded stack: live slides' event-to-result latency without and during"
                        + " a backfill of an archive with a second model, both jobs' tiles/s, and"
                        + " promote -> first search.")
final class BenchBackfillCommand implements Callable<Integer> {

    @Option(
            names = "--model",
            paramLabel = "A.onnx",
            description = "The live job's model (default: the gpfm-tiny test model).")
    Path model;

    @Option(
            names = "--model-b",
            paramLabel = "B.onnx",
            description =
                    "The backfill's model (default: a link to the live model under another name,"
                            + " so another model id at the same cost).")
    Path modelB;

    @Option(names = "--archive", defaultValue = "4", description = "Archive slides (default 4).")
    int archive;

    @Option(names = "--live", defaultValue = "3", description = "Live slides per phase (3).")
    int live;

    @Option(
            names = "--parallelism",
            defaultValue = "1",
            description = "The live job's parallelism (default 1).")
    int parallelism;

    @Option(
            names = "--backfill-parallelism",
            defaultValue = "1",
            description = "The backfill's parallelism (default 1).")
    int backfillParallelism;

    @Option(
            names = "--nice",
            defaultValue = "10",
            description = "The backfill's nice value, as backfill --nice (default 10).")
    int nice;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Default: bench-backfill.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        Path work = workDir != null ? workDir : home.resolve("bench-backfill");
        Path a =
                model != null
                        ? model
                        : home.resolve("operators/src/test/resources/gpfm-tiny/gpfm-tiny.onnx");
        if (!Files.isRegularFile(a)) {
            throw new SlideStreamException(ErrorCode.MODEL_INVALID, a + " is not a model file");
        }
        FileUtils.deleteDirectoryQuietly(work.resolve("stack").toFile());
        Files.createDirectories(work);
        Path b = modelB != null ? modelB : BackfillBenchmark.sameWeightsOtherName(a, work);
        BackfillBenchmark.Result r =
                new BackfillBenchmark(
                                work,
                                a.toAbsolutePath(),
                                b.toAbsolutePath(),
                                archive,
                                live,
                                parallelism,
                                backfillParallelism,
                                nice,
                                thisCommandLine(),
                                out)
                        .run();
        BackfillBenchmark.print(r, nice, out);
        return 0;
    }

    /** This JVM's launch (java, its options, class path, the command line's main class). */
    private static List<String> thisCommandLine() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(SlideStreamCli.class.getName());
        return command;
    }
}
