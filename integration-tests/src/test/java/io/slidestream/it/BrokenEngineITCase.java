package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.SharedInferenceEngines;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergTableReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An inference engine that breaks while the job runs is an infrastructure failure, not the tiles'
 * fault: the ONNX Runtime session of the loaded engine is closed under the running job (the
 * MiniCluster runs in this JVM), so every batch and the known-good probe fail. Three times over,
 * the job must fail over, load the model afresh and deliver a complete result for the slide that
 * met the broken engine, with nothing on the dead letter and nothing in {@code slide_errors}; after
 * each failover exactly the running subtasks' engine leases and queue reservations are held, and
 * none once the job is cancelled.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BrokenEngineITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final Duration TIMEOUT = Duration.ofSeconds(180);

    /** How often the engine is broken under the running job. */
    private static final int ROUNDS = 3;

    @Test
    void aBrokenEngineFailsTheJobOverAndTheSlideCompletesOnAFreshEngine(@TempDir Path dir)
            throws Exception {
        Path slide =
                EndToEndStack.writeSlide(
                        EndToEndStack.sixByFive(51), dir.resolve("slide.tiff"), 30);
        try (EndToEndStack stack = EndToEndStack.start(dir, "broken-engine-it", 10)) {
            SlideStreamConfig config = stack.config();
            JobClient job = EndToEndStack.submit(config, "broken-engine-it");
            FlinkRestClient rest = EndToEndStack.rest(FLINK);
            String jobId = job.getJobID().toHexString();
            try (SlidePublisher publisher = stack.publisher("broken-engine-it");
                    CommittedTopic<SlideResult> results =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT);
                    CommittedTopic<SlideFailed> deadLetters =
                            stack.committed(
                                    EmbeddedStack.DEAD_LETTER_TOPIC, AvroCodec.SLIDE_FAILED)) {
                publisher.publish(slide, "before");
                awaitResults(job, results, 1);
                assertThat(rest.failures(jobId)).isZero();

                Map<String, Integer> planned = new java.util.LinkedHashMap<>();
                planned.put("before", 30);
                for (int round = 1; round <= ROUNDS; round++) {
                    // Break the idle engine: its model session is closed, every run now fails.
                    List<TileInferenceEngine> engines = SharedInferenceEngines.loaded();
                    assertThat(engines).hasSize(1);
                    TileInferenceEngine broken = engines.get(0);
                    broken.embeddingEngine().ifPresent(EmbeddingEngine::close);

                    String id = "after-" + round;
                    planned.put(id, 30);
                    publisher.publish(slide, id);
                    awaitResults(job, results, planned.size());
                    int failovers = round;
                    // The REST API serves the job's exception history from a cache of seconds.
                    assertThat(
                                    EndToEndStack.await(
                                            Duration.ofSeconds(30),
                                            () -> rest.failures(jobId) >= failovers))
                            .as("failover %d", round)
                            .isTrue();
                    assertThat(SharedInferenceEngines.loaded())
                            .as("a fresh engine, the broken one discarded")
                            .hasSize(1)
                            .doesNotContain(broken);
                    // No lease or queue reservation left over by the failed attempts.
                    assertThat(SharedInferenceEngines.leases()).as("leases").isEqualTo(2);
                    assertThat(SharedInferenceEngines.reservedPlaces())
                            .isEqualTo(2 * config.inference().capacity());
                }
                assertThat(rest.get("/jobs/" + jobId + "/exceptions").toString())
                        .as("the failovers' cause")
                        .contains("the inference engine fails on every input");

                assertThat(results.poll())
                        .allSatisfy(
                                r -> {
                                    assertThat(r.getComplete()).isTrue();
                                    assertThat(r.getTilesReceived()).isEqualTo(30);
                                });
                assertThat(
                                EndToEndStack.await(
                                        Duration.ofSeconds(30),
                                        () -> StoreContents.reached(config, planned)))
                        .isTrue();
                StoreContents.assertExactlyOnce(config, planned);
                assertThat(deadLetters.poll()).as("dead letters").isEmpty();
                var iceberg = config.iceberg();
                assertThat(IcebergTableReader.rows(iceberg, iceberg.errorsTable(), "slide_id"))
                        .as("slide_errors")
                        .isEmpty();
                System.out.printf(
                        "BrokenEngineITCase: engine broken under the job %d times; %d failovers,"
                                + " every slide complete (30 of 30 tiles), no dead letter, 2"
                                + " leases and %d reserved places after each%n",
                        ROUNDS, rest.failures(jobId), 2 * config.inference().capacity());
            } finally {
                EndToEndStack.cancel(job);
            }
            assertThat(
                            EndToEndStack.await(
                                    Duration.ofSeconds(30),
                                    () -> SharedInferenceEngines.leases() == 0))
                    .as("leases released after the cancel")
                    .isTrue();
        }
    }

    private static void awaitResults(JobClient job, CommittedTopic<SlideResult> results, int n) {
        EndToEndStack.awaitWhileRunning(
                job, TIMEOUT, n + " results", () -> results.poll().size() >= n);
    }
}
