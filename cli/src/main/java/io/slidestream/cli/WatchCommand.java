package io.slidestream.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.local.FolderWatcher;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream watch DIR}: runs a {@link FolderWatcher} on {@code DIR} that publishes a
 * {@code SlideScanned} for every slide file once its size is stable, printing one JSON line per
 * published slide, until the process is interrupted. Ctrl-C or SIGTERM stops it cleanly: a shutdown
 * hook lets the poll in progress finish and the producer flush before the JVM exits; interrupting
 * the calling thread does the same (tests). Slides already published (the watcher's state file) are
 * not announced again after a restart.
 */
@Command(
        name = "watch",
        mixinStandardHelpOptions = true,
        description =
                "Watch a folder and announce every slide that appears in it on Kafka, once its"
                        + " size is stable. Runs until interrupted (Ctrl-C).")
final class WatchCommand implements Callable<Integer> {
    /** How long the shutdown hook waits for the watcher and the producer to close. */
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(20);

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "The folder to watch (not its subfolders).")
    Path dir;

    @Mixin KafkaPublishOptions kafka;

    @Option(
            names = "--poll-interval",
            paramLabel = "DURATION",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "How often the folder is listed (default: ${DEFAULT-VALUE}).")
    Duration pollInterval;

    @Option(
            names = "--stable-for",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description =
                    "How long a file's size and time must stay unchanged before it is announced"
                            + " (default: two poll intervals).")
    Duration stableFor;

    @Option(
            names = "--state-file",
            paramLabel = "FILE",
            description =
                    "Where the published slide ids are kept (default: DIR/"
                            + FolderWatcher.STATE_FILE
                            + ").")
    Path stateFile;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper json = new ObjectMapper();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            stop.countDown();
                            try {
                                closed.await(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "slidestream-watch-shutdown");
        try (SlidePublisher publisher = kafka.publisher();
                FolderWatcher watcher =
                        FolderWatcher.builder()
                                .folder(dir)
                                .publisher(publisher)
                                .pollInterval(pollInterval)
                                .stableFor(stableFor)
                                .stateFile(stateFile)
                                .onPublished(event -> print(out, json, event))
                                .build()) {
            Runtime.getRuntime().addShutdownHook(hook);
            watcher.start();
            spec.commandLine()
                    .getErr()
                    .printf(
                            "Watching %s every %s, publishing to %s on %s (Ctrl-C to stop)%n",
                            watcher.folder(),
                            pollInterval,
                            kafka.topic(),
                            kafka.bootstrapServers());
            spec.commandLine().getErr().flush();
            try {
                stop.await();
            } catch (InterruptedException interrupted) {
                // Stopped by the caller rather than by a signal: a clean stop as well.
            }
        } finally {
            closed.countDown();
            removeHook(hook);
        }
        return 0;
    }

    private static void print(PrintWriter out, ObjectMapper json, SlideScanned event) {
        try {
            out.println(json.writeValueAsString(PublishCommand.line(event)));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is exiting already; the hook is running.
        }
    }
}
