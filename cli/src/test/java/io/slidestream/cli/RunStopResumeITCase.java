package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.slide.SlideOpener;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilingConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} in its own JVM against the embedded stores: SIGTERM while a large slide is in flight
 * stops the job with a savepoint, and the next {@code run} resumes from it and finishes that slide
 * - exactly once in Iceberg, Milvus and Kafka. (Without the savepoint the second run would start
 * from the Kafka offsets committed by the first, past the slide's event, and never finish it.)
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class RunStopResumeITCase {

    private static final int EDGE_TILES = 32;
    private static final Duration TIMEOUT = Duration.ofSeconds(240);

    @TempDir Path dir;

    @Test
    void aStopTakesASavepointAndTheNextRunFinishesTheSlideInFlightExactlyOnce() throws Exception {
        int edge = EDGE_TILES * 256;
        Path slide =
                SyntheticSlideWriter.builder()
                        .size(edge, edge)
                        .style(SyntheticSlideWriter.Style.GENERIC_TIFF)
                        .seed(61)
                        .tissue(0, 0, edge, edge)
                        .build()
                        .write(Files.createDirectories(dir.resolve("slides")).resolve("big.tiff"))
                        .file();
        // The tissue tiles the job plans for it (the synthetic tissue leaves some grid cells out).
        int tiles =
                PlannedSlide.plan(
                                SlideOpener.unrestricted(),
                                slide.toString(),
                                TilingConfig.defaults(),
                                OptionalDouble.empty())
                        .plan()
                        .tissueTileCount();
        try (EmbeddedStack stack = EmbeddedStack.start(dir.resolve("stack"), 2)) {
            Configuration stores = stack.configuration();
            MilvusConfig milvus = MilvusConfig.from(stores);
            IcebergConfig iceberg = IcebergConfig.from(stores);

            Process first = run(stores, "first");
            try (SlidePublisher publisher =
                            SlidePublisher.builder()
                                    .bootstrapServers(stack.kafka().bootstrapServers())
                                    .topic(EmbeddedStack.SCANNED_TOPIC)
                                    .build();
                    MilvusStoreReader reader = MilvusStoreReader.open(milvus);
                    CommittedTopic<SlideResult> results =
                            new CommittedTopic<>(
                                    stack.kafka().bootstrapServers(),
                                    EmbeddedStack.RESULTS_TOPIC,
                                    AvroCodec.SLIDE_RESULT)) {
                awaitOutput("first", "Starting the SlideStream job", first);
                publisher.publish(slide, "big");
                // In flight: some of its tiles are in Milvus, far from all.
                awaitWhileAlive(first, "first", "tiles in Milvus", () -> count(reader) >= 100);
                first.destroy();
                assertThat(first.waitFor(120, TimeUnit.SECONDS)).as("first run stops").isTrue();
                assertThat(first.exitValue()).as(log("first")).isZero();
                assertThat(log("first")).contains("Stopped with savepoint");
                long atStop = count(reader);
                assertThat(atStop).as("tiles in Milvus at the stop").isLessThan(tiles);
                assertThat(results.poll()).isEmpty();

                Process second = run(stores, "second");
                try {
                    awaitOutput("second", "Resuming from", second);
                    awaitWhileAlive(
                            second, "second", "the result", () -> !results.poll().isEmpty());
                } finally {
                    second.destroy();
                    second.waitFor(120, TimeUnit.SECONDS);
                }
                List<SlideResult> all = results.poll();
                assertThat(all).hasSize(1);
                assertThat(all.get(0).getComplete()).isTrue();
                assertThat(all.get(0).getTilesReceived()).isEqualTo(tiles);
                assertThat(count(reader)).isEqualTo(tiles);
                assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable()))
                        .containsEntry("big", (long) tiles)
                        .hasSize(1);
                System.out.printf(
                        "RunStopResumeITCase: stopped with %d of %d tiles in Milvus; the resumed run"
                                + " finished the slide: 1 result, %d Iceberg rows, %d vectors%n",
                        atStop, tiles, tiles, tiles);
            }
        }
    }

    private static long count(MilvusStoreReader reader) {
        try {
            return reader.countTiles("big");
        } catch (RuntimeException collectionNotYetThere) {
            return 0;
        }
    }

    private Process run(Configuration stores, String name) throws Exception {
        Path home = Path.of("..").toAbsolutePath().normalize();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(
                ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(a -> a.startsWith("--add-opens"))
                        .toList());
        command.addAll(
                List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        SlideStreamCli.class.getName(),
                        "run",
                        "--state-dir",
                        dir.resolve("state").toString()));
        stores.toMap().forEach((k, v) -> command.add("-D" + k + "=" + v));
        Path tiny = home.resolve("operators/src/test/resources/gpfm-tiny");
        command.add("-Dinference.model-path=" + tiny.resolve("gpfm-tiny.onnx"));
        command.add("-Dinference.batch-size=8");
        command.add("-Djob.checkpoint-interval=1 s");
        command.add("-Djob.parallelism=2");
        command.add("-Dmilvus.flush-interval=200 ms");
        return new ProcessBuilder(command)
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile())
                .start();
    }

    private void awaitOutput(String name, String text, Process process) {
        awaitWhileAlive(
                process, name, "'" + text + "' from " + name, () -> log(name).contains(text));
    }

    /** Waits for {@code condition}; fails at once, with its log, when {@code process} exits. */
    private void awaitWhileAlive(
            Process process, String name, String what, Callable<Boolean> condition) {
        Awaitility.await(what)
                .atMost(TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .failFast(
                        "the " + name + " run exited",
                        () -> assertThat(process.isAlive()).as(log(name)).isTrue())
                .until(condition);
    }

    private String log(String name) {
        try {
            Path err = dir.resolve(name + ".err");
            return Files.exists(err) ? Files.readString(err) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
