package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.cli.SlideStreamCli;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slidestream stop --drain} against a running job, through Flink's REST API as on a cluster:
 * with a backlog of slides in flight, the drain ends with complete results only (no slide window
 * fires early), every slide it finished has all its tiles in Iceberg and Milvus and every other
 * slide none (nothing half written), the summary lists the results committed while stopping, and
 * the job resumed from the drain's savepoint processes whatever was left, reading no event twice:
 * every slide exactly once in the end. (That the planner hands on the rest of a slide it is
 * emitting when the input ends, and keeps the slides waiting for admission, is {@code
 * SlideTilerTest}'s.)
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DrainITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final Duration TIMEOUT = Duration.ofSeconds(240);
    private static final int LARGE_EDGE = 16;
    private static final int SMALL = 30;

    @Test
    void stopDrainFinishesTheSlidesInFlightAndTheResumedJobTheRest(@TempDir Path dir)
            throws Exception {
        // A larger slide of 16 x 16 tiles and small ones of 6 x 5, one slide at a time per planner
        // subtask. How far the planner got when the stop begins depends on the machine (the
        // network buffers hold thousands of tile tasks); whatever it started is finished, and
        // whatever it did not is left to the resumed job.
        int edge = 256 * LARGE_EDGE;
        Path large =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(edge + 512, edge + 512)
                                .style(Style.GENERIC_TIFF)
                                .seed(61)
                                .tissue(256, 256, edge, edge)
                                .build(),
                        dir.resolve("large.tiff"),
                        LARGE_EDGE * LARGE_EDGE);
        Path small =
                EndToEndStack.writeSlide(
                        EndToEndStack.sixByFive(62), dir.resolve("small.tiff"), SMALL);
        int slides = 9;
        try (EndToEndStack stack = EndToEndStack.start(dir, "drain-it", 2)) {
            SlideStreamConfig config =
                    stack.config(
                            Map.of("tiling.max-active-slides", "1", "inference.capacity", "16"));
            JobClient job = EndToEndStack.submit(config, "drain-it");
            Map<String, Integer> planned = new TreeMap<>();
            try (SlidePublisher publisher = stack.publisher("drain-it");
                    CommittedTopic<SlideResult> results =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT)) {
                for (int i = 0; i < slides; i++) {
                    String id = i == 0 ? "large" : String.format(Locale.ROOT, "d%03d", i);
                    planned.put(id, i == 0 ? LARGE_EDGE * LARGE_EDGE : SMALL);
                    publisher.publish(
                            SlideScanned.newBuilder()
                                    .setSlideId(id)
                                    .setUri((i == 0 ? large : small).toString())
                                    .setScannedAt(Instant.now())
                                    .setScannerId("drain-it")
                                    .build());
                }
                assertThat(
                                EndToEndStack.await(
                                        TIMEOUT,
                                        () -> {
                                            try {
                                                EndToEndStack.assertRunning(job);
                                            } catch (Exception e) {
                                                throw new AssertionError(e);
                                            }
                                            return !results.poll().isEmpty();
                                        }))
                        .as("a first result")
                        .isTrue();

                Set<String> before =
                        results.poll().stream()
                                .map(r -> r.getSlideId())
                                .collect(Collectors.toSet());
                Path summaryFile = dir.resolve("stop-summary.json");
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int exit =
                        SlideStreamCli.execute(
                                new PrintWriter(out),
                                new PrintWriter(err),
                                "stop",
                                "--drain",
                                "--rest",
                                EndToEndStack.restUrl(FLINK),
                                "--job",
                                job.getJobID().toHexString(),
                                "--savepoint-dir",
                                dir.resolve("savepoints").toUri().toString(),
                                "--timeout",
                                "3m",
                                "-D",
                                "kafka.bootstrap-servers=" + stack.bootstrapServers(),
                                "--summary-json",
                                summaryFile.toString());
                System.out.println("DrainITCase stop --drain:\n" + out + err);
                assertThat(exit).as("stop --drain: %s", err).isZero();
                assertThat(job.getJobStatus().get(10, TimeUnit.SECONDS))
                        .isEqualTo(JobStatus.FINISHED);

                List<SlideResult> drained = results.pollToEnd(Duration.ofSeconds(30));
                Set<String> finished =
                        drained.stream().map(r -> r.getSlideId()).collect(Collectors.toSet());
                assertThat(drained)
                        .as("results after the drain")
                        .allSatisfy(r -> assertThat(r.getComplete()).isTrue())
                        .hasSize(finished.size());
                assertThat(finished).isNotEmpty();
                // Nothing half done: a slide has all its tiles in the stores or none.
                var iceberg = config.iceberg();
                Map<String, Long> icebergTiles =
                        IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable());
                Map<String, Long> expected = new TreeMap<>();
                finished.forEach(id -> expected.put(id, (long) planned.get(id)));
                assertThat(icebergTiles).as("Iceberg tiles after the drain").isEqualTo(expected);
                try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
                    for (String id : planned.keySet()) {
                        assertThat(milvus.countTiles(id))
                                .as("Milvus tiles of %s after the drain", id)
                                .isEqualTo(finished.contains(id) ? planned.get(id) : 0);
                    }
                }
                JsonNode summary = new ObjectMapper().readTree(summaryFile.toFile());
                assertThat(summary.path("drained").asBoolean()).isTrue();
                assertThat(summary.path("final_state").asText()).isEqualTo("FINISHED");
                // What the summary lists was committed while stopping: complete, none before.
                assertThat(summary.path("results_committed"))
                        .allSatisfy(
                                r -> {
                                    String id = r.path("slide_id").asText();
                                    assertThat(finished).contains(id);
                                    assertThat(before).doesNotContain(id);
                                    assertThat(r.path("complete").asBoolean()).isTrue();
                                    assertThat(r.path("tiles_received").asInt())
                                            .isEqualTo(planned.get(id));
                                });
                String savepoint = summary.path("savepoint").asText();
                assertThat(savepoint).isNotBlank();

                JobClient resumed = EndToEndStack.resume(config, "drain-it", savepoint);
                try {
                    assertThat(
                                    EndToEndStack.await(
                                            TIMEOUT, () -> StoreContents.reached(config, planned)))
                            .as("every slide after the resume")
                            .isTrue();
                    EndToEndStack.assertRunning(resumed);
                    StoreContents.assertExactlyOnce(config, planned);
                    List<SlideResult> all = results.pollToEnd(Duration.ofSeconds(30));
                    assertThat(all).hasSize(slides);
                    assertThat(all).allSatisfy(r -> assertThat(r.getComplete()).isTrue());
                    System.out.printf(
                            Locale.ROOT,
                            "DrainITCase: %d slides announced; %d finished before the stop, %d"
                                    + " more while draining (%s s), the resumed job the other"
                                    + " %d%n",
                            slides,
                            before.size(),
                            finished.size() - before.size(),
                            summary.path("seconds").asText(),
                            slides - finished.size());
                } finally {
                    EndToEndStack.cancel(resumed);
                }
            }
        }
    }
}
