package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.inference.SharedInferenceEngines;
import io.slidestream.job.JobSinks;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.job.StoreSinks;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once, proven: the whole job runs against the real stores. A small slide goes through and
 * is committed by a checkpoint; then a large slide is announced and the job fails once in the
 * middle of it (a failure injected in front of the tile sinks after {@value #FAIL_AFTER_TILES} of
 * its 30 tiles, whose embeddings have by then partly reached Milvus and the open Iceberg files and
 * Kafka transactions), and recovers from the last completed checkpoint. Afterwards every store
 * holds each tile, slide and result exactly once: the replayed tiles are written again and must
 * overwrite (Milvus upserts by deterministic key) or never be committed twice (Iceberg commits and
 * Kafka transactions on checkpoints); the small slide, already committed, must not come back. The
 * restarted embed subtasks hold exactly their own engine leases and queue reservations (none leaked
 * by the failed attempt), all released when the job ends.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ExactlyOnceITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    /** Tiles of the large slide that pass before the failure (of 30). */
    static final int FAIL_AFTER_TILES = 10;

    /** Tissue tiles of the small slide, which is through before the large one starts. */
    static final int SMALL_TILES = 8;

    private static final Duration RESULTS_TIMEOUT = Duration.ofSeconds(120);

    @BeforeEach
    void resetInjectedFailure() {
        FailOnceAfterCheckpoint.reset();
    }

    @Test
    void recoversFromAFailureMidSlideWithEveryTileSlideAndResultStoredOnce(@TempDir Path dir)
            throws Exception {
        long begin = System.nanoTime();
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // 6x5 and 4x2 tissue tiles on the 256 px grid.
        Path large =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(2048, 2048)
                                .style(Style.GENERIC_TIFF)
                                .seed(21)
                                .tissue(256, 256, 1536, 1280)
                                .build(),
                        inbox.resolve("large.tiff"),
                        30);
        Path small =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(1536, 1536)
                                .style(Style.APERIO)
                                .seed(22)
                                .tissue(256, 512, 1024, 512)
                                .build(),
                        inbox.resolve("small.svs"),
                        8);

        try (EndToEndStack stack = EndToEndStack.start(dir, "exactly-once-it", 3)) {
            SlideStreamConfig config = stack.config();
            Map<String, Integer> planned = new LinkedHashMap<>();
            planned.put("large", EndToEndStack.plannedTiles(config, large));
            planned.put("small", EndToEndStack.plannedTiles(config, small));
            assertThat(planned).isEqualTo(Map.of("large", 30, "small", SMALL_TILES));
            EndToEndStack.createMilvusCollections(config, 256);

            StreamExecutionEnvironment env = EndToEndStack.environment(config);
            SlideStreamJob.define(
                    env,
                    config,
                    SlideStreamJob.kafkaEvents(env, config),
                    new FailingOnceTileSinks(new StoreSinks(config)));
            JobClient job = env.executeAsync("exactly-once-it");

            List<SlideResult> results;
            List<SlideFailed> deadLetters;
            try (var resultsTopic =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT);
                    var deadLetterTopic =
                            stack.committed(
                                    EmbeddedStack.DEAD_LETTER_TOPIC, AvroCodec.SLIDE_FAILED);
                    SlidePublisher publisher =
                            SlidePublisher.builder()
                                    .bootstrapServers(stack.bootstrapServers())
                                    .topic(EmbeddedStack.SCANNED_TOPIC)
                                    .build()) {
                long deadline = System.nanoTime() + RESULTS_TIMEOUT.toNanos();
                // The small slide goes through first, so that a checkpoint holding tiles has
                // completed before the failure whatever the timing of the large slide (whose
                // tasks are planned in chunks, with checkpoints passing between them), and so
                // that a slide committed before the failure is seen not to come back.
                publisher.publish(small, "small");
                awaitResults(job, resultsTopic, 1, deadline);
                assertThat(FailOnceAfterCheckpoint.TILES_IN_COMPLETED_CHECKPOINT.get())
                        .as("tiles in a completed checkpoint")
                        .isPositive();
                assertThat(FailOnceAfterCheckpoint.FAILED).isFalse();
                publisher.publish(large, "large");
                awaitResults(job, resultsTopic, planned.size(), deadline);
                System.out.printf(
                        "ExactlyOnceITCase: all results committed after %d ms%n",
                        (System.nanoTime() - begin) / 1_000_000);
                EndToEndStack.await(
                        Duration.ofSeconds(30), () -> StoreContents.reached(config, planned));
                // A duplicate from the replay would be committed by the next checkpoints: wait
                // for three more to complete.
                long checkpoint = FailOnceAfterCheckpoint.LATEST_COMPLETED.get();
                assertThat(
                                EndToEndStack.await(
                                        Duration.ofSeconds(30),
                                        () ->
                                                FailOnceAfterCheckpoint.LATEST_COMPLETED.get()
                                                        >= checkpoint + 3))
                        .as("three more checkpoints after checkpoint %s", checkpoint)
                        .isTrue();
                results = resultsTopic.poll();
                deadLetters = deadLetterTopic.poll();
                // After the failover: one lease and one reservation of the async capacity per
                // embed subtask, nothing left over from the failed attempt.
                assertThat(SharedInferenceEngines.leases()).as("engine leases").isEqualTo(2);
                assertThat(SharedInferenceEngines.reservedPlaces())
                        .as("reserved queue places")
                        .isEqualTo(2 * config.inference().capacity());
            } finally {
                EndToEndStack.cancel(job);
            }
            assertThat(
                            EndToEndStack.await(
                                    Duration.ofSeconds(30),
                                    () ->
                                            SharedInferenceEngines.leases() == 0
                                                    && SharedInferenceEngines.reservedPlaces()
                                                            == 0))
                    .as("leases and reservations released after the cancel")
                    .isTrue();

            // The failure happened once, after a checkpoint that held some tiles, and the job
            // came back from it.
            assertThat(FailOnceAfterCheckpoint.FAILED).isTrue();
            assertThat(FailOnceAfterCheckpoint.TILES_IN_COMPLETED_CHECKPOINT.get())
                    .as("tiles in the last checkpoint completed before the failure")
                    .isPositive();
            assertThat(FailOnceAfterCheckpoint.MAX_ATTEMPT.get())
                    .as("attempt number of a restarted task")
                    .isPositive();
            assertThat(FailOnceAfterCheckpoint.RESTORED).as("restored from a checkpoint").isTrue();

            assertThat(deadLetters).isEmpty();
            assertThat(results)
                    .extracting(r -> r.getSlideId().toString())
                    .containsExactlyInAnyOrderElementsOf(planned.keySet());
            assertThat(results)
                    .allSatisfy(
                            r -> {
                                assertThat(r.getComplete()).isTrue();
                                assertThat(r.getTilesReceived())
                                        .isEqualTo(planned.get(r.getSlideId().toString()));
                            });

            StoreContents.assertExactlyOnce(config, planned);
            var iceberg = config.iceberg();
            assertThat(IcebergTableReader.rows(iceberg, iceberg.errorsTable(), "slide_id"))
                    .isEmpty();
            System.out.printf(
                    "ExactlyOnceITCase: %d ms in all; failed after %d tiles, the checkpoint before"
                            + " held up to %d tiles per subtask%n",
                    (System.nanoTime() - begin) / 1_000_000,
                    FailOnceAfterCheckpoint.TILES_AT_FAILURE.get(),
                    FailOnceAfterCheckpoint.TILES_IN_COMPLETED_CHECKPOINT.get());
        }
    }

    private static void awaitResults(
            JobClient job, CommittedTopic<SlideResult> results, int count, long deadline)
            throws Exception {
        while (results.poll().size() < count) {
            EndToEndStack.assertRunning(job);
            assertThat(System.nanoTime())
                    .as("%s results within %s", count, RESULTS_TIMEOUT)
                    .isLessThan(deadline);
        }
    }

    /** The real sinks, with {@link FailOnceAfterCheckpoint} in front of the tile sinks. */
    static final class FailingOnceTileSinks implements JobSinks {
        private final JobSinks real;

        FailingOnceTileSinks(JobSinks real) {
            this.real = real;
        }

        @Override
        public void tiles(DataStream<TileEmbedding> tiles) {
            real.tiles(
                    tiles.map(new FailOnceAfterCheckpoint(), tiles.getType())
                            .uid("inject-failure-once")
                            .name("Fail once after " + FAIL_AFTER_TILES + " tiles"));
        }

        @Override
        public void slides(DataStream<SlideResult> slides) {
            real.slides(slides);
        }

        @Override
        public void slides(DataStream<SlideResult> slides, DataStream<SlideResult> otherHeads) {
            real.slides(slides, otherHeads);
        }

        @Override
        public void failures(DataStream<SlideFailed> failures) {
            real.failures(failures);
        }
    }

    /**
     * Passes tiles on and throws once: on the first tile after the small slide's tiles and {@value
     * #FAIL_AFTER_TILES} tiles of the large one, provided a checkpoint that includes tiles has
     * completed. The MiniCluster runs in the test's JVM, so the static flags reach the test.
     */
    static final class FailOnceAfterCheckpoint extends RichMapFunction<TileEmbedding, TileEmbedding>
            implements CheckpointedFunction, CheckpointListener {
        private static final long serialVersionUID = 1L;

        static final AtomicBoolean FAILED = new AtomicBoolean();
        static final AtomicInteger TILES_SEEN = new AtomicInteger();
        static final AtomicInteger TILES_AT_FAILURE = new AtomicInteger();
        static final AtomicInteger TILES_IN_COMPLETED_CHECKPOINT = new AtomicInteger();
        static final AtomicInteger MAX_ATTEMPT = new AtomicInteger(-1);
        static final AtomicBoolean RESTORED = new AtomicBoolean();
        static final AtomicLong LATEST_COMPLETED = new AtomicLong();

        /** Tiles this instance had passed on when it snapshotted each checkpoint. */
        private transient Map<Long, Integer> seenAtSnapshot;

        private transient int seen;

        static void reset() {
            FAILED.set(false);
            TILES_SEEN.set(0);
            TILES_AT_FAILURE.set(0);
            TILES_IN_COMPLETED_CHECKPOINT.set(0);
            MAX_ATTEMPT.set(-1);
            RESTORED.set(false);
            LATEST_COMPLETED.set(0);
        }

        @Override
        public void open(OpenContext context) {
            MAX_ATTEMPT.accumulateAndGet(
                    getRuntimeContext().getTaskInfo().getAttemptNumber(), Math::max);
        }

        @Override
        public TileEmbedding map(TileEmbedding tile) throws Exception {
            if (!FAILED.get()) {
                int total = TILES_SEEN.incrementAndGet();
                if (total > SMALL_TILES + FAIL_AFTER_TILES
                        && TILES_IN_COMPLETED_CHECKPOINT.get() > 0
                        && FAILED.compareAndSet(false, true)) {
                    TILES_AT_FAILURE.set(total - 1);
                    throw new IllegalStateException(
                            "Injected failure after "
                                    + (total - 1)
                                    + " tiles (expected by the test)");
                }
            }
            seen++;
            return tile;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            seenAtSnapshot.put(context.getCheckpointId(), seen);
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {
            seenAtSnapshot = new HashMap<>();
            if (context.isRestored()) {
                RESTORED.set(true);
            }
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            LATEST_COMPLETED.accumulateAndGet(checkpointId, Math::max);
            Integer tiles = seenAtSnapshot.remove(checkpointId);
            if (tiles != null && !FAILED.get()) {
                TILES_IN_COMPLETED_CHECKPOINT.accumulateAndGet(tiles, Math::max);
            }
        }
    }
}
