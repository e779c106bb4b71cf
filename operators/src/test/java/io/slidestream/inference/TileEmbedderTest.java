package io.slidestream.inference;

import static io.slidestream.inference.GpfmTinyFixture.TOLERANCE;
import static io.slidestream.inference.GpfmTinyFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.PreprocessedTile;
import io.slidestream.schemas.records.TileEmbeddingResult;
import io.slidestream.schemas.records.TileTask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TileEmbedder} in Flink's {@code AsyncWaitOperator} harness: results with the real
 * gpfm-tiny engine, failures and timeouts as records. Only the timeout test replaces the model with
 * a latch-controlled runner, because a real model cannot be held still on demand.
 */
class TileEmbedderTest {

    private static final long TIMEOUT_MS = 60_000;

    /** Holds the fake model until released; static because the opener must be serializable. */
    private static volatile CountDownLatch modelGate = new CountDownLatch(0);

    @AfterEach
    void releaseModel() {
        modelGate.countDown();
    }

    @Test
    void emitsTheReferenceEmbeddingAndTissueProbabilitiesForEachTile() throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(3).tileHeadPath(GpfmTinyFixture.tissueHead()).build();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<PreprocessedTile, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config), config)) {
            harness.open();
            for (int i = 0; i < 4; i++) {
                harness.processElement(new StreamRecord<>(tile(i), i));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        out.sort(Comparator.comparingInt(r -> r.task.tileIndex));
        assertThat(out).hasSize(4).allSatisfy(r -> assertThat(r.succeeded()).isTrue());
        for (TileEmbeddingResult r : out) {
            String file =
                    r.task.tileIndex % 2 == 0 ? GpfmTinyFixture.TILE_03 : GpfmTinyFixture.TILE_08;
            assertThat(r.embedding.slideId).isEqualTo("slide-1");
            assertThat(r.embedding.tileIndex).isEqualTo(r.task.tileIndex);
            assertThat(r.embedding.modelId).startsWith("gpfm-tiny-bd11a46612e0");
            assertThat(maxAbsDiff(r.embedding.embedding, GpfmTinyFixture.embedding(file)))
                    .isLessThanOrEqualTo(TOLERANCE);
            assertThat(
                            maxAbsDiff(
                                    r.embedding.headProbabilities,
                                    GpfmTinyFixture.tissueProbabilities(file)))
                    .isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void emitsAFailureRecordForAMalformedTileAndGoesOn() throws Exception {
        InferenceConfig config = GpfmTinyFixture.config(4).build();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<PreprocessedTile, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config), config)) {
            harness.open();
            PreprocessedTile bad = tile(1);
            bad.chw = new float[10];
            harness.processElement(new StreamRecord<>(tile(0), 0));
            harness.processElement(new StreamRecord<>(bad, 1));
            harness.processElement(new StreamRecord<>(tile(2), 2));
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        assertThat(out).hasSize(3);
        assertThat(out).filteredOn(TileEmbeddingResult::succeeded).hasSize(2);
        assertThat(out)
                .filteredOn(r -> !r.succeeded())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.task.tileIndex).isEqualTo(1);
                            assertThat(r.errorCode).isEqualTo(ErrorCode.INVALID_REQUEST);
                            assertThat(r.errorMessage).contains("has 10 values", "150528");
                        });
    }

    @Test
    void emitsATimeoutRecordWhenTheModelDoesNotAnswerInTime() throws Exception {
        modelGate = new CountDownLatch(1);
        InferenceConfig config =
                GpfmTinyFixture.config(2)
                        .maxWait(Duration.ZERO)
                        .timeout(Duration.ofMinutes(1))
                        .build();
        TileEmbedder embedder = new TileEmbedder(config, TileEmbedderTest::gatedEngine);
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<PreprocessedTile, TileEmbeddingResult> harness =
                harness(embedder, config)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(new StreamRecord<>(tile(0), 0));
            // The operator's timer fires at processing time 0 + timeout.
            harness.setProcessingTime(config.timeout().toMillis() + 1);
            runPendingMails(harness);
            out = new ArrayList<>(harness.extractOutputValues());
            modelGate.countDown();
            harness.endInput();
            // The late model answer must not produce a second record for the tile.
            assertThat(harness.extractOutputValues()).hasSize(1);
        }
        assertThat(out)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.succeeded()).isFalse();
                            assertThat(r.task.tileIndex).isZero();
                            assertThat(r.errorCode).isEqualTo(ErrorCode.TIMEOUT);
                            assertThat(r.errorMessage).contains("inference.timeout=PT1M");
                        });
    }

    /** Runs the mails (completed results) the operator queued, as the task's mailbox loop would. */
    private static void runPendingMails(OneInputStreamOperatorTestHarness<?, ?> harness)
            throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        for (Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
                mail.isPresent();
                mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)) {
            mail.get().run();
        }
    }

    /** The shared registry with an engine whose model waits for {@link #modelGate}. */
    private static SharedInferenceEngines.Lease gatedEngine(InferenceConfig config) {
        return SharedInferenceEngines.acquire(
                // A model path of its own keeps this engine apart from real ones in the registry.
                config.toBuilder().modelPath("gated-model.onnx").build(),
                c ->
                        new TileInferenceEngine(
                                "gated-model",
                                4,
                                3 * 224 * 224,
                                inputs -> {
                                    modelGate.await(1, TimeUnit.MINUTES);
                                    List<TileInference> out = new ArrayList<>();
                                    inputs.forEach(
                                            in -> out.add(new TileInference(new float[4], null)));
                                    return out;
                                },
                                c,
                                List.of()));
    }

    private static OneInputStreamOperatorTestHarness<PreprocessedTile, TileEmbeddingResult> harness(
            TileEmbedder embedder, InferenceConfig config) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(
                        embedder,
                        config.timeout().toMillis(),
                        config.capacity(),
                        AsyncDataStream.OutputMode.UNORDERED),
                TypeInformation.of(PreprocessedTile.class)
                        .createSerializer(new SerializerConfigImpl()));
    }

    private static PreprocessedTile tile(int index) {
        TileTask task = TileEmbeddingRouterTest.task(index);
        float[] chw =
                GpfmTinyFixture.preprocessed(
                        index % 2 == 0
                                ? GpfmTinyFixture.PREPROCESSED_03
                                : GpfmTinyFixture.PREPROCESSED_08);
        return new PreprocessedTile(task, chw);
    }
}
