package io.slidestream.inference;

import static io.slidestream.inference.GpfmTinyFixture.TOLERANCE;
import static io.slidestream.inference.GpfmTinyFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileEmbeddingResult;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideReader;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.CorruptSlides;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TileEmbedder} in Flink's {@code AsyncWaitOperator} harness: tile tasks in, embeddings out
 * with real OpenSlide reads and the real gpfm-tiny engine; read failures, timeouts and the size of
 * the checkpointed in-flight state. Only the timeout and snapshot tests replace the model with a
 * latch-controlled runner, because a real model cannot be held still on demand.
 */
class TileEmbedderTest {

    private static final long SCANNED_AT = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();

    /** Holds the fake model until released; static because the opener must be serializable. */
    private static volatile CountDownLatch modelGate = new CountDownLatch(0);

    @AfterEach
    void releaseModel() {
        modelGate.countDown();
    }

    @Test
    void readsAndEmbedsTilesOfARealSlideLikeThePyTorchReference() throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(3)
                        .set(InferenceOptions.TILE_HEAD_PATH, GpfmTinyFixture.tissueHead())
                        .build();
        Path cmu1 = TestSlides.cmu1SmallRegion();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            for (int i = 0; i < 4; i++) {
                // The reference tiles 03 (1024, 1536, 256 px) and 08 (1024, 1024, 512 px).
                TileTask t =
                        i % 2 == 0
                                ? task("cmu1", cmu1, i, 4, 1024, 1536, 256)
                                : task("cmu1", cmu1, i, 4, 1024, 1024, 512);
                harness.processElement(new StreamRecord<>(t, i));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        out.sort(Comparator.comparingInt(r -> r.task.tileIndex));
        assertThat(out)
                .extracting(r -> r.task.tileIndex + ":" + r.succeeded() + ":" + r.errorMessage)
                .containsExactly("0:true:null", "1:true:null", "2:true:null", "3:true:null");
        for (TileEmbeddingResult r : out) {
            String file =
                    r.task.tileIndex % 2 == 0 ? GpfmTinyFixture.TILE_03 : GpfmTinyFixture.TILE_08;
            assertThat(r.embedding.slideId).isEqualTo("cmu1");
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
    void preprocessesStraightToFloat16ForAFloat16Model(@TempDir Path dir) throws Exception {
        Path model = OnnxTestModels.fp16ChannelMean(dir.resolve("fp16-mean.onnx"), 224);
        InferenceConfig config =
                GpfmTinyFixture.config(2)
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.READER_THREADS, 2)
                        .build();
        Path cmu1 = TestSlides.cmu1SmallRegion();
        List<TileTask> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // 224 px reads (no resize), 256 and 512 px reads (resized to 224).
            int readPx = new int[] {224, 256, 512}[i % 3];
            tasks.add(task("cmu1", cmu1, i, 6, 256L * i, 512, readPx));
        }
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            for (TileTask t : tasks) {
                harness.processElement(new StreamRecord<>(t, t.tileIndex));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        out.sort(Comparator.comparingInt(r -> r.task.tileIndex));
        assertThat(out).hasSize(6).allSatisfy(r -> assertThat(r.succeeded()).isTrue());
        // The same tiles as float32 tensors, converted to float16 on the batch thread.
        TilePreprocessor preprocessor = new TilePreprocessor(224);
        try (EmbeddingEngine engine = EmbeddingEngine.open(config);
                OpenSlide slide = OpenSlide.open(cmu1, SlideReader.OPENSLIDE)) {
            assertThat(engine.takesHalves()).isTrue();
            for (TileEmbeddingResult r : out) {
                TileTask t = r.task;
                int[] rgb = new int[t.readPx * t.readPx];
                slide.readRegion(rgb, t.x, t.y, 0, t.readPx, t.readPx);
                float[] expected =
                        engine.embed(List.of(preprocessor.preprocess(rgb, t.readPx, t.readPx)))[0];
                assertThat(r.embedding.embedding)
                        .as("tile %d (%d px)", t.tileIndex, t.readPx)
                        .containsExactly(expected);
            }
        }
    }

    @Test
    void reportsTheFirstFailedReadOfASlideAndItsOtherFailedTilesWithoutAReport() throws Exception {
        Path bad = TestSlides.slideFixture("unreadable.svs");
        Path good = TestSlides.cmu1SmallRegion();
        // One reader thread: tasks are read in arrival order, so the tile at (0, 0) is read first.
        InferenceConfig config =
                GpfmTinyFixture.config(2).set(InferenceOptions.READER_THREADS, 1).build();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("good", good, 0, 2, 1024, 1536, 256)));
            for (int i = 0; i < 4; i++) {
                harness.processElement(
                        new StreamRecord<>(task("bad", bad, i, 4, 256L * i, 0, 256)));
            }
            harness.processElement(new StreamRecord<>(task("good", good, 1, 2, 1024, 1024, 512)));
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        // unreadable.svs is broken at (0, 0) only: its other tiles are read and embedded.
        assertThat(out).hasSize(6);
        assertThat(out)
                .filteredOn(TileEmbeddingResult::succeeded)
                .extracting(r -> r.task.slideId + "#" + r.task.tileIndex)
                .containsExactlyInAnyOrder("good#0", "good#1", "bad#1", "bad#2", "bad#3");
        List<TileEmbeddingResult> failures =
                out.stream()
                        .filter(r -> !r.succeeded())
                        .sorted(Comparator.comparingInt(r -> r.task.tileIndex))
                        .toList();
        assertThat(failures)
                .extracting(r -> r.task.slideId + "#" + r.task.tileIndex + ":" + r.skipped)
                .containsExactly("bad#0:false");
        assertThat(failures)
                .allSatisfy(
                        r -> {
                            assertThat(r.errorCode).isEqualTo(ErrorCode.CORRUPT_SLIDE);
                            assertThat(r.stage).isEqualTo(TileEmbeddingResult.STAGE_READ);
                            assertThat(r.task.uri).isEqualTo(bad.toString());
                            assertThat(r.task.scannedAtMillis).isEqualTo(SCANNED_AT);
                        });
        assertThat(failures.get(0).errorMessage).isNotBlank();
    }

    @Test
    void readsARescanOfASlideWhoseEarlierScanCouldNotBeOpened(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("gone.svs");
        Path good = TestSlides.cmu1SmallRegion();
        InferenceConfig config =
                GpfmTinyFixture.config(2).set(InferenceOptions.READER_THREADS, 1).build();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            // The first scan of slide "s" cannot be opened (its second tile goes unread) ...
            harness.processElement(new StreamRecord<>(task("s", bad, 0, 2, 0, 0, 256)));
            harness.processElement(new StreamRecord<>(task("s", bad, 1, 2, 256, 0, 256)));
            // ... the scanner writes it again: a new scan of the same slide.
            for (int i = 0; i < 2; i++) {
                TileTask rescan = task("s", good, i, 2, 1024, 1024 + 256L * i, 256);
                rescan.scannedAtMillis = SCANNED_AT + 3_600_000;
                harness.processElement(new StreamRecord<>(rescan));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        assertThat(out)
                .extracting(
                        r -> r.task.scannedAtMillis + "#" + r.task.tileIndex + ":" + r.succeeded())
                .containsExactlyInAnyOrder(
                        SCANNED_AT + "#0:false",
                        SCANNED_AT + "#1:false",
                        (SCANNED_AT + 3_600_000) + "#0:true",
                        (SCANNED_AT + 3_600_000) + "#1:true");
        assertThat(out)
                .filteredOn(r -> r.task.scannedAtMillis == SCANNED_AT)
                .extracting(r -> r.errorCode + ":" + r.skipped)
                .containsExactlyInAnyOrder("SLIDE_NOT_FOUND:false", "SLIDE_NOT_FOUND:true");
    }

    @Test
    void reportsASlideWithBrokenLevel0TilesOnceEvenWhenItsTilesAreReadConcurrently(
            @TempDir Path dir) throws Exception {
        Path good =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.GENERIC_TIFF),
                        dir.resolve("good.tiff"));
        Path broken = CorruptSlides.zeroLevel0Tiles(good, dir.resolve("broken.tiff"));
        InferenceConfig config =
                GpfmTinyFixture.config(2).set(InferenceOptions.READER_THREADS, 3).build();
        int tiles = 6;
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            for (int i = 0; i < tiles; i++) {
                harness.processElement(
                        new StreamRecord<>(task("broken", broken, i, tiles, 256L * i, 0, 256)));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        assertThat(out)
                .hasSize(tiles)
                .allSatisfy(r -> assertThat(r.errorCode).isEqualTo(ErrorCode.CORRUPT_SLIDE));
        assertThat(out).filteredOn(r -> !r.skipped).hasSize(1);
    }

    @Test
    void embedsTheGoodTilesOfAHalfBrokenSlideReadConcurrentlyWithItsBrokenOnes(@TempDir Path dir)
            throws Exception {
        Path source =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.GENERIC_TIFF),
                        dir.resolve("source.tiff"));
        // The second tissue block (3 x 2 tiles at (2048, 1536)) is broken, the first one is not.
        Path half =
                CorruptSlides.zeroLevel0Tiles(
                        source, dir.resolve("half.tiff"), 2048, 1536, 512, 768);
        InferenceConfig config =
                GpfmTinyFixture.config(4).set(InferenceOptions.READER_THREADS, 4).build();
        List<TileTask> tasks = new ArrayList<>();
        for (int row = 0; row < 2; row++) {
            for (int col = 0; col < 3; col++) {
                tasks.add(
                        task(
                                "half",
                                half,
                                tasks.size(),
                                12,
                                256L * (1 + col),
                                256L * (2 + row),
                                256));
            }
        }
        for (int row = 0; row < 3; row++) {
            for (int col = 0; col < 2; col++) {
                tasks.add(
                        task(
                                "half",
                                half,
                                tasks.size(),
                                12,
                                256L * (8 + col),
                                256L * (6 + row),
                                256));
            }
        }
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(new TileEmbedder(config, List.of(), SlideReader.AUTO, false), config)) {
            harness.open();
            // Four readers read good and broken tiles of the one shared handle at the same time.
            for (TileTask t : tasks) {
                harness.processElement(new StreamRecord<>(t));
            }
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        // Every good tile is embedded, whatever the timing: none is blamed for the broken tiles'
        // error on the shared handle, and none goes unread because a broken one failed first.
        assertThat(out).hasSize(12);
        assertThat(out)
                .filteredOn(TileEmbeddingResult::succeeded)
                .extracting(r -> r.task.tileIndex)
                .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
        assertThat(out)
                .filteredOn(r -> !r.succeeded())
                .hasSize(6)
                .allSatisfy(r -> assertThat(r.errorCode).isEqualTo(ErrorCode.CORRUPT_SLIDE))
                .allSatisfy(r -> assertThat(r.task.tileIndex).isGreaterThanOrEqualTo(6));
        // One failure is the slide's; the other broken tiles are markers without a report.
        assertThat(out).filteredOn(r -> !r.succeeded() && !r.skipped).hasSize(1);
    }

    @Test
    void refusesASlideOutsideTheAllowedRoots(@TempDir Path root) throws Exception {
        InferenceConfig config = GpfmTinyFixture.config(2).build();
        Path cmu1 = TestSlides.cmu1SmallRegion();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(
                        new TileEmbedder(config, List.of(root.toString()), SlideReader.AUTO, false),
                        config)) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("cmu1", cmu1, 0, 1, 1024, 1536, 256)));
            harness.endInput();
            out = new ArrayList<>(harness.extractOutputValues());
        }
        assertThat(out)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.succeeded()).isFalse();
                            assertThat(r.skipped).isFalse();
                            assertThat(r.errorCode).isEqualTo(ErrorCode.ACCESS_DENIED);
                            assertThat(r.stage).isEqualTo(TileEmbeddingResult.STAGE_READ);
                        });
    }

    @Test
    void emitsATimeoutRecordWhenTheModelDoesNotAnswerInTime() throws Exception {
        modelGate = new CountDownLatch(1);
        InferenceConfig config =
                GpfmTinyFixture.config(2)
                        .set(InferenceOptions.MAX_WAIT, Duration.ZERO)
                        .set(InferenceOptions.TIMEOUT, Duration.ofMinutes(1))
                        .build();
        TileEmbedder embedder = new TileEmbedder(config, List.of(), TileEmbedderTest::gatedEngine);
        Path cmu1 = TestSlides.cmu1SmallRegion();
        List<TileEmbeddingResult> out;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(embedder, config)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(new StreamRecord<>(task("cmu1", cmu1, 0, 1, 1024, 1536, 256)));
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

    @Test
    void failsTheTaskInsteadOfRecordingTilesWhenTheEngineItselfIsBroken() throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(2).set(InferenceOptions.MAX_WAIT, Duration.ZERO).build();
        TileEmbedder embedder = new TileEmbedder(config, List.of(), TileEmbedderTest::brokenEngine);
        Path cmu1 = TestSlides.cmu1SmallRegion();
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(embedder, config)) {
            // The async operator fails its task through the environment, as a real task does.
            harness.getEnvironment().setExpectedExternalFailureCause(Throwable.class);
            harness.open();
            harness.processElement(new StreamRecord<>(task("cmu1", cmu1, 0, 1, 1024, 1536, 256)));
            harness.endInput();
            // The task failed with the engine's failure (the job would fail over and embed the
            // tile again); no failure record was emitted for the tile.
            assertThat(harness.getEnvironment().getActualExternalFailureCause())
                    .get()
                    .satisfies(
                            cause ->
                                    assertThat(cause.getCause())
                                            .isInstanceOfSatisfying(
                                                    SlideStreamException.class,
                                                    e -> {
                                                        assertThat(e.code())
                                                                .isEqualTo(ErrorCode.ENGINE_FAILED);
                                                        assertThat(e.getMessage())
                                                                .contains("device lost");
                                                    }));
            assertThat(harness.extractOutputValues()).isEmpty();
        }
    }

    @Test
    void checkpointsInFlightTilesAsSmallTasksNotTensors() throws Exception {
        modelGate = new CountDownLatch(1);
        int inFlight = 32;
        InferenceConfig config =
                GpfmTinyFixture.config(4).set(InferenceOptions.CAPACITY, inFlight).build();
        TileEmbedder embedder = new TileEmbedder(config, List.of(), TileEmbedderTest::gatedEngine);
        Path cmu1 = TestSlides.cmu1SmallRegion();
        OperatorSubtaskState snapshot;
        try (OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness =
                harness(embedder, config)) {
            harness.open();
            for (int i = 0; i < inFlight; i++) {
                harness.processElement(
                        new StreamRecord<>(
                                task("cmu1", cmu1, i, inFlight, 256L * (i % 8), 0, 256), i));
            }
            snapshot = harness.snapshot(1L, 1L);
            // The model is held: nothing can have been answered, all tasks are in the snapshot.
            assertThat(harness.extractOutputValues()).isEmpty();
            modelGate.countDown();
            harness.endInput();
            assertThat(harness.extractOutputValues()).hasSize(inFlight);
        }
        long bytes = snapshot.getStateSize();
        System.out.printf(
                "checkpointed state with %d tiles in flight: %d bytes (%d per tile)%n",
                inFlight, bytes, bytes / inFlight);
        // A tensor alone is 3 x 224 x 224 x 4 = 602,112 bytes; a task is a few hundred.
        assertThat(bytes).isPositive().isLessThan(32L * 1024);
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
                config.toBuilder().set(InferenceOptions.MODEL_PATH, "gated-model.onnx").build(),
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

    /** An engine whose every run fails, as a lost GPU does. */
    static SharedInferenceEngines.Lease brokenEngine(InferenceConfig config) {
        return SharedInferenceEngines.acquire(
                config.toBuilder().set(InferenceOptions.MODEL_PATH, "broken-model.onnx").build(),
                c ->
                        new TileInferenceEngine(
                                "broken-model",
                                4,
                                3 * 224 * 224,
                                inputs -> {
                                    throw new IllegalStateException("CUDA error: device lost");
                                },
                                c,
                                List.of()));
    }

    private static OneInputStreamOperatorTestHarness<TileTask, TileEmbeddingResult> harness(
            TileEmbedder embedder, InferenceConfig config) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(
                        embedder,
                        config.timeout().toMillis(),
                        config.capacity(),
                        AsyncDataStream.OutputMode.UNORDERED),
                TypeInformation.of(TileTask.class).createSerializer(new SerializerConfigImpl()));
    }

    static TileTask task(
            String slideId, Path slide, int index, int count, long x, long y, int readPx) {
        TileTask t = new TileTask();
        t.slideId = slideId;
        t.uri = slide.toString();
        t.x = x;
        t.y = y;
        t.level = 0;
        t.readPx = readPx;
        t.tilePx = readPx;
        t.mpp = 0.5;
        t.tissue = 1f;
        t.tileIndex = index;
        t.tileCount = count;
        t.scannedAtMillis = SCANNED_AT;
        return t;
    }
}
