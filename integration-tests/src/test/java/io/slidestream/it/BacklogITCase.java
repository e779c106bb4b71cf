package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backlogs, end to end on the real stores: a hundred slides announced at once drain in order with a
 * slide timeout far shorter than the backlog (no partial result) while another process keeps one of
 * the machine's cores busy, and small slides announced beside a large one have their results
 * committed by the second checkpoint after their last tile, not when the large slide finishes.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BacklogITCase {

    // Every checkpoint of a run kept in the REST API's history, read once the large slide is done.
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            StoreTestEnvironment.miniCluster(
                    new Configuration().set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 2000));

    private static final Duration TIMEOUT = Duration.ofSeconds(240);
    private static final int TILES = 12;

    @Test
    void aBacklogAnnouncedAtOnceDrainsInOrderWithoutAPartialResult(@TempDir Path dir)
            throws Exception {
        // 12 tiles each: with tiling.emit-chunk = 4 the planner emits each slide in 3 steps, so
        // slides planned side by side would interleave their tiles.
        Path slide =
                EndToEndStack.writeSlide(
                        EndToEndStack.twoBlocks(41), dir.resolve("slide.tiff"), TILES);
        // Enough slides that the backlog lasts longer than one slide timeout (the point of the
        // test): 200 slides drained in 66 s on the 2-core build machine, so 100 take three slide
        // timeouts there.
        int slides = 100;
        Duration slideTimeout = Duration.ofSeconds(10);
        try (EndToEndStack stack = EndToEndStack.start(dir, "backlog-it", 2);
                BusyCore busy = BusyCore.start()) {
            // Without the bound on tile tasks in flight about a thousand tasks queued between the
            // planners and the embedders, and 107 of 200 results were partial on a slow day.
            SlideStreamConfig config =
                    stack.config(
                            Map.of(
                                    "aggregate.slide-timeout",
                                    slideTimeout.toMillis() + " ms",
                                    "tiling.max-active-slides",
                                    "2"));
            JobClient job = EndToEndStack.submit(config, "backlog-it");
            long begin = System.nanoTime();
            try (SlidePublisher publisher = stack.publisher("backlog-it");
                    CommittedTopic<SlideResult> results =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT)) {
                for (int i = 0; i < slides; i++) {
                    publisher.publish(event(String.format(Locale.ROOT, "b%03d", i), slide));
                }
                awaitResults(job, results, slides);
                double seconds = (System.nanoTime() - begin) / 1e9;
                List<SlideResult> all = results.poll();
                long partial = all.stream().filter(r -> !r.getComplete()).count();
                System.out.printf(
                        Locale.ROOT,
                        "BacklogITCase: %d slides x %d tiles with a %s slide timeout, one core kept"
                                + " busy by another process, at most %d tile tasks in flight,"
                                + " drained in %.1f s: %d complete, %d partial%n",
                        slides,
                        TILES,
                        slideTimeout,
                        2 * config.inference().capacity() * config.parallelism(),
                        seconds,
                        all.size() - partial,
                        partial);
                assertThat(all).hasSize(slides);
                assertThat(all)
                        .allSatisfy(
                                r -> {
                                    assertThat(r.getComplete())
                                            .as("complete %s", r.getSlideId())
                                            .isTrue();
                                    assertThat(r.getTilesReceived()).isEqualTo(TILES);
                                    assertThat(r.getIncompleteReason()).isEmpty();
                                });
            } finally {
                EndToEndStack.cancel(job);
            }
        }
    }

    @Test
    void smallSlidesBesideALargeOneAreCommittedByTheSecondCheckpointAfterTheirLastTile(
            @TempDir Path dir, @InjectClusterClient ClusterClient<?> cluster) throws Exception {
        // 32 x 32 tiles of tissue: a thousand tiles, far longer to embed than a small slide.
        int edge = 32 * 256;
        Path large =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(edge, edge)
                                .style(Style.GENERIC_TIFF)
                                .seed(42)
                                .tissue(0, 0, edge, edge)
                                .build(),
                        dir.resolve("large.tiff"),
                        32 * 32);
        Path small = EndToEndStack.writeSlide(smallSlide(43), dir.resolve("small.svs"), 8);
        FlinkRestClient rest = new FlinkRestClient(cluster.getWebInterfaceURL());
        try (EndToEndStack stack = EndToEndStack.start(dir, "beside-large-it", 2)) {
            SlideStreamConfig config = stack.config();
            Duration interval = config.checkpointInterval();
            JobClient job = EndToEndStack.submit(config, "beside-large-it");
            String jobId = job.getJobID().toHexString();
            try (SlidePublisher publisher = stack.publisher("backlog-it");
                    CommittedTopic<SlideResult> results =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT)) {
                publisher.publish(event("large", large));
                Map<String, Instant> published = new HashMap<>();
                List<String> smalls = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    String id = "small-" + i;
                    smalls.add(id);
                    published.put(id, publisher.publish(event(id, small)).getScannedAt());
                }
                // Poll often: the time a result becomes visible is what is measured.
                Map<String, Instant> visible = new HashMap<>();
                Awaitility.await("all results")
                        .atMost(TIMEOUT)
                        .pollInterval(Duration.ofMillis(50))
                        .failFast("the job ended", () -> EndToEndStack.assertRunning(job))
                        .until(
                                () -> {
                                    for (SlideResult r : results.poll()) {
                                        visible.putIfAbsent(r.getSlideId(), Instant.now());
                                    }
                                    return visible.containsKey("large");
                                });
                Map<String, SlideResult> byId = new HashMap<>();
                results.poll().forEach(r -> byId.put(r.getSlideId(), r));
                Instant largeVisible = visible.get("large");
                // The REST API caches checkpoint statistics for a few seconds: wait until its
                // history reaches past the last small result.
                Instant lastSmall =
                        smalls.stream().map(visible::get).max(Instant::compareTo).orElseThrow();
                List<Checkpoint> checkpoints =
                        Awaitility.await("checkpoint history past the small results")
                                .atMost(TIMEOUT)
                                .until(
                                        () -> completed(rest, jobId),
                                        h ->
                                                h.stream()
                                                        .anyMatch(
                                                                c ->
                                                                        c.triggered()
                                                                                .isAfter(
                                                                                        lastSmall)));
                for (String id : smalls) {
                    SlideResult r = byId.get(id);
                    assertThat(r).as("result of %s", id).isNotNull();
                    Duration compute = Duration.between(published.get(id), r.getCompletedAt());
                    Duration commit = Duration.between(r.getCompletedAt(), visible.get(id));
                    // Checkpoints that started after the slide's last tile and had completed when
                    // its result was read: the one whose barrier followed the result commits it,
                    // or the next where an unaligned barrier overtook it.
                    List<Long> after =
                            checkpoints.stream()
                                    .filter(
                                            c ->
                                                    !c.triggered().isBefore(r.getCompletedAt())
                                                            && c.completed()
                                                                    .isBefore(visible.get(id)))
                                    .map(Checkpoint::id)
                                    .toList();
                    System.out.printf(
                            Locale.ROOT,
                            "BacklogITCase: %s announced after the large slide: last tile %.1f s"
                                    + " after the event, result committed and read %.2f s later"
                                    + " (checkpoint interval %s; checkpoints started after the"
                                    + " last tile and completed before: %s); the large slide's"
                                    + " result came %.1f s after it%n",
                            id,
                            compute.toMillis() / 1e3,
                            commit.toMillis() / 1e3,
                            interval,
                            after,
                            Duration.between(visible.get(id), largeVisible).toMillis() / 1e3);
                    assertThat(visible.get(id)).isBefore(largeVisible);
                    assertThat(after)
                            .as("checkpoints before %s was committed", id)
                            .hasSizeLessThanOrEqualTo(2);
                }
            } finally {
                EndToEndStack.cancel(job);
            }
        }
    }

    /** One completed checkpoint as the REST API reports it. */
    private record Checkpoint(long id, Instant triggered, Instant completed) {}

    /** The job's completed checkpoints in the REST API's history. */
    private static List<Checkpoint> completed(FlinkRestClient rest, String jobId) {
        List<Checkpoint> out = new ArrayList<>();
        for (JsonNode c : rest.get("/jobs/" + jobId + "/checkpoints").path("history")) {
            if ("COMPLETED".equals(c.path("status").asText())) {
                long trigger = c.path("trigger_timestamp").asLong();
                out.add(
                        new Checkpoint(
                                c.path("id").asLong(),
                                Instant.ofEpochMilli(trigger),
                                Instant.ofEpochMilli(
                                        trigger + c.path("end_to_end_duration").asLong())));
            }
        }
        return out;
    }

    private static void awaitResults(
            JobClient job, CommittedTopic<SlideResult> results, int expected) {
        EndToEndStack.awaitWhileRunning(
                job, TIMEOUT, expected + " results", () -> results.poll().size() >= expected);
    }

    private static SlideScanned event(String slideId, Path file) {
        return SlideScanned.newBuilder()
                .setSlideId(slideId)
                .setUri(file.toAbsolutePath().toString())
                .setScannedAt(Instant.now())
                .setScannerId("backlog-it")
                .build();
    }

    /** 4 x 2 tiles of tissue. */
    private static SyntheticSlideWriter smallSlide(long seed) {
        return SyntheticSlideWriter.builder()
                .size(2048, 1536)
                .style(Style.APERIO)
                .seed(seed)
                .tissue(512, 512, 1024, 512)
                .build();
    }

    /**
     * Another process that keeps one core busy for as long as it is open: the machine the backlog
     * drains on is slower than it would be, as on a busy day.
     */
    static final class BusyCore implements AutoCloseable {
        private final Process process;

        private BusyCore(Process process) {
            this.process = process;
        }

        static BusyCore start() throws java.io.IOException {
            return new BusyCore(
                    new ProcessBuilder("sh", "-c", "while :; do :; done")
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
