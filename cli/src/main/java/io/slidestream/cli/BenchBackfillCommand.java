package io.slidestream.cli;

import io.slidestream.bench.BackfillBenchmark;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.ModelCard;
import io.slidestream.schemas.ErrorCode;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
        Path b = modelB != null ? modelB : sameWeightsOtherName(a, work);
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
        out.printf(
                Locale.ROOT,
                "backfill at nice %d, live job at 0%n| live latency alone, median | during a backfill, median | ratio | live tiles/s |"
                        + " backfill tiles/s | promote -> first search |%n"
                        + "|---|---|---|---|---|---|%n"
                        + "| %.2f s | %.2f s | %.2f | %.1f | %.1f | %.0f ms |%n",
                nice,
                r.medianLive(),
                r.medianDuringBackfill(),
                r.medianDuringBackfill() / r.medianLive(),
                r.liveTilesPerSecond(),
                r.backfillTilesPerSecond(),
                r.promoteToSearchMillis());
        if (r.backfillFinishedDuringLive()) {
            out.println(
                    "note: the backfill ended before the last live slide; give --archive more"
                            + " slides for a backfill that lasts the whole phase");
        }
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

    /** A hard link to {@code model} named {@code <stem>-b.onnx}, with its card if it has one. */
    private static Path sameWeightsOtherName(Path model, Path work) throws Exception {
        String file = model.getFileName().toString();
        String stem = file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
        Path b = work.resolve(stem + "-b.onnx");
        Files.deleteIfExists(b);
        try {
            Files.createLink(b, model.toAbsolutePath());
        } catch (UnsupportedOperationException | java.io.IOException crossDevice) {
            Files.copy(model, b);
        }
        Path card = ModelCard.cardPath(model);
        Path cardB = ModelCard.cardPath(b);
        Files.deleteIfExists(cardB);
        if (Files.isRegularFile(card)) {
            Files.writeString(
                    cardB,
                    Files.readString(card)
                            .replaceFirst("\"name\"\\s*:\\s*\"([^\"]*)\"", "\"name\": \"$1-b\""));
        }
        return b;
    }
}
