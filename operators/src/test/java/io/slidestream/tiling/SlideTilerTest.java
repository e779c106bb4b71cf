package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.inference.GpfmTinyFixture;
import io.slidestream.inference.ModelCard;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.schemas.serde.ForgetRequests;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlideTilerTest {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");

    /** Tissue tiles of {@link #slide}: 6 x 5 tiles of 256 px from (256, 256), row-major. */
    static final int COLUMNS = 6;

    static final int ROWS = 5;
    static final int TILES = COLUMNS * ROWS;
    static final int CHUNK = 8;
    static final TilingConfig TILING =
            TilingConfig.builder().set(TilingOptions.EMIT_CHUNK, CHUNK).build();

    @TempDir static Path dir;
    static Path slide;
    static Path blank;

    /** The tissue fraction of each planned tile (edge tiles lose some to the mask filters). */
    static float[] tissue;

    @BeforeAll
    static void writeSlides() throws IOException {
        slide =
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .mpp(0.5)
                        .style(Style.GENERIC_TIFF)
                        .seed(21)
                        .tissue(256, 256, 256L * COLUMNS, 256L * ROWS)
                        .build()
                        .write(dir.resolve("slide.tiff"))
                        .file();
        blank =
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .mpp(0.5)
                        .style(Style.APERIO)
                        .seed(22)
                        .noTissue()
                        .build()
                        .write(dir.resolve("blank.svs"))
                        .file();
        tissue =
                PlannedSlide.plan(
                                SlideOpener.unrestricted(),
                                slide.toString(),
                                TILING,
                                OptionalDouble.empty())
                        .plan()
                        .tileTissues();
        assertThat(tissue).hasSize(TILES);
    }

    @Test
    void emitsTheFirstChunkOnArrivalAndOneChunkPerTimerInPlanOrder() throws Exception {
        try (var harness = harness()) {
            harness.open();

            harness.processElement(event("s1", slide), 1L);
            assertThat(indices(harness.extractOutputValues()))
                    .containsExactlyElementsOf(range(0, CHUNK));
            assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

            harness.setProcessingTime(1);
            assertThat(indices(harness.extractOutputValues()))
                    .containsExactlyElementsOf(range(0, 2 * CHUNK));
            harness.setProcessingTime(2);
            harness.setProcessingTime(3);

            assertThat(harness.extractOutputValues()).isEqualTo(expectedTasks("s1", 0, TILES));
            // Only the memory of the slide's latest scan (its time and footprint) is left.
            assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
            assertThat(harness.numProcessingTimeTimers()).isZero();
            harness.setProcessingTime(100);
            assertThat(harness.extractOutputValues()).hasSize(TILES);
        }
    }

    @Test
    void emitsOnlyTheTasksItHasCreditsForAndAsksForMoreOnceAtATime() throws Exception {
        List<OperatorEvent> requests = new ArrayList<>();
        SlidePlannerOperator operator = operator(TILING);
        operator.useCredits(requests::add, CHUNK);
        try (var harness = harness(operator)) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            // No credits yet: nothing is emitted, one request is out, the slide looks again later.
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(requests).containsExactly(new TileCreditCoordinator.Request(CHUNK));
            harness.setProcessingTime(SlideTiler.CREDIT_POLL_MILLIS);
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(requests).hasSize(1);

            // Five credits: five tasks, then the next request.
            operator.handleOperatorEvent(new TileCreditCoordinator.Grant(5));
            harness.setProcessingTime(2 * SlideTiler.CREDIT_POLL_MILLIS);
            assertThat(indices(harness.extractOutputValues())).containsExactly(0, 1, 2, 3, 4);
            assertThat(requests).hasSize(2);

            // Enough for the rest: the slide is emitted to its end, in plan order.
            operator.handleOperatorEvent(new TileCreditCoordinator.Grant(TILES));
            for (long t = 3; t < 3 + TILES; t++) {
                harness.setProcessingTime(t * SlideTiler.CREDIT_POLL_MILLIS);
            }
            assertThat(harness.extractOutputValues()).isEqualTo(expectedTasks("s1", 0, TILES));
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void continuesWithTheRemainingTasksOnlyAfterARestoreMidSlide() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            harness.setProcessingTime(1);
            assertThat(harness.extractOutputValues()).hasSize(2 * CHUNK);
            snapshot = harness.snapshot(1L, 1L);
        }

        try (var restored = harness()) {
            restored.setProcessingTime(1);
            restored.initializeState(snapshot);
            restored.open();
            assertThat(restored.numKeyedStateEntries())
                    .as("latest scan, footprint, plan and next index")
                    .isEqualTo(4);
            assertThat(restored.numProcessingTimeTimers()).isEqualTo(1);

            restored.setProcessingTime(2);
            restored.setProcessingTime(3);

            assertThat(restored.extractOutputValues())
                    .isEqualTo(expectedTasks("s1", 2 * CHUNK, TILES));
            assertThat(restored.numKeyedStateEntries())
                    .as("latest scan and footprint")
                    .isEqualTo(2);
            assertThat(restored.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void plansSlidesSideBySideEachWithItsOwnState() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("a", slide), 1L);
            harness.processElement(event("b", slide), 2L);
            assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);

            for (long t = 1; t <= 3; t++) {
                harness.setProcessingTime(t);
            }

            List<TileTask> out = harness.extractOutputValues();
            assertThat(out.stream().filter(t -> t.slideId.equals("a")).collect(Collectors.toList()))
                    .isEqualTo(expectedTasks("a", 0, TILES));
            assertThat(out.stream().filter(t -> t.slideId.equals("b")).collect(Collectors.toList()))
                    .isEqualTo(expectedTasks("b", 0, TILES));
            // Chunks of the two slides alternate: neither waits for the other to finish.
            assertThat(out.subList(0, 2 * CHUNK))
                    .extracting(t -> t.slideId)
                    .containsExactlyElementsOf(
                            IntStream.range(0, 2 * CHUNK)
                                    .mapToObj(i -> i < CHUNK ? "a" : "b")
                                    .collect(Collectors.toList()));
            assertThat(harness.numKeyedStateEntries())
                    .as("latest scans and footprints")
                    .isEqualTo(4);
        }
    }

    @Test
    void plansEachScanOnceIgnoringItsDuplicatesAndOlderScansAndPlansANewerScan() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            harness.processElement(event("s1", slide), 2L);
            for (long t = 1; t <= 3; t++) {
                harness.setProcessingTime(t);
            }
            assertThat(harness.extractOutputValues()).isEqualTo(expectedTasks("s1", 0, TILES));

            // The same scan again, once the slide is done: still a duplicate.
            harness.processElement(event("s1", slide), 3L);
            assertThat(harness.extractOutputValues()).hasSize(TILES);

            // A newer scan is planned; the older one, arriving late, is not.
            harness.processElement(event("s1", slide, SCANNED_AT.plusSeconds(60)), 4L);
            harness.processElement(event("s1", slide, SCANNED_AT.minusSeconds(60)), 5L);
            List<TileTask> out = harness.extractOutputValues();
            assertThat(indices(out))
                    .containsExactlyElementsOf(concat(range(0, TILES), range(0, CHUNK)));
            assertThat(out.subList(TILES, out.size()))
                    .allSatisfy(
                            t ->
                                    assertThat(t.scannedAtMillis)
                                            .isEqualTo(SCANNED_AT.plusSeconds(60).toEpochMilli()));
            assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        }
    }

    @Test
    void plansABurstOfTwoHundredIdenticalEventsOnce() throws Exception {
        try (var harness = harness()) {
            harness.open();
            for (int i = 0; i < 200; i++) {
                harness.processElement(event("s1", slide), i);
                harness.setProcessingTime(i + 1);
            }
            for (long t = 201; t <= 205; t++) {
                harness.setProcessingTime(t);
            }
            assertThat(harness.extractOutputValues()).isEqualTo(expectedTasks("s1", 0, TILES));
        }
    }

    @Test
    void aNewerScanSupersedesTheTasksOfAnOlderOneStillBeingEmitted() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            assertThat(harness.extractOutputValues()).hasSize(CHUNK);
            harness.processElement(event("s1", slide, SCANNED_AT.plusSeconds(60)), 2L);
            for (long t = 1; t <= 5; t++) {
                harness.setProcessingTime(t);
            }
            List<TileTask> out = harness.extractOutputValues();
            assertThat(indices(out))
                    .containsExactlyElementsOf(concat(range(0, CHUNK), range(0, TILES)));
            assertThat(out.subList(CHUNK, out.size()))
                    .allSatisfy(
                            t ->
                                    assertThat(t.scannedAtMillis)
                                            .isEqualTo(SCANNED_AT.plusSeconds(60).toEpochMilli()));
        }
    }

    @Test
    void aReScanWithLessTissueRemovesTheTilesOfTheEarlierScanThatItsPlanLacks() throws Exception {
        // The same slide scanned again: tissue only in the first 3 columns and 2 rows now.
        Path smaller =
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .mpp(0.5)
                        .style(Style.GENERIC_TIFF)
                        .seed(23)
                        .tissue(256, 256, 256L * 3, 256L * 2)
                        .build()
                        .write(dir.resolve("rescan.tiff"))
                        .file();
        Instant later = SCANNED_AT.plusSeconds(3600);
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            for (long t = 1; t <= 5; t++) {
                harness.setProcessingTime(t);
            }
            assertThat(harness.getSideOutput(SlideTiler.REMOVED)).isNull();

            harness.processElement(event("s1", smaller, later), 6L);
            harness.processElement(event("s1", smaller, later), 7L);
            List<TileEmbedding> removed =
                    harness.getSideOutput(SlideTiler.REMOVED).stream()
                            .map(r -> r.getValue())
                            .collect(Collectors.toList());
            String model = ModelCard.idOf(GpfmTinyFixture.model());
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < TILES; i++) {
                int column = i % COLUMNS;
                int row = i / COLUMNS;
                if (column >= 3 || row >= 2) {
                    expected.add((256L + 256L * column) + "," + (256L + 256L * row));
                }
            }
            assertThat(removed)
                    .extracting(r -> r.x + "," + r.y)
                    .containsExactlyInAnyOrderElementsOf(expected);
            assertThat(removed)
                    .allSatisfy(
                            r -> {
                                assertThat(r.removed).isTrue();
                                assertThat(r.slideId).isEqualTo("s1");
                                assertThat(r.modelId).isEqualTo(model);
                                assertThat(r.level).isZero();
                                assertThat(r.scannedAtMillis).isEqualTo(later.toEpochMilli());
                            });
            // The new scan's 6 tiles are planned; the duplicate neither plans nor removes again.
            List<TileTask> out = harness.extractOutputValues();
            assertThat(out.subList(TILES, out.size())).hasSize(6);
        }
    }

    @Test
    void aReScanThatCannotBePlannedRemovesNothing() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(event("s1", slide), 1L);
            for (long t = 1; t <= 5; t++) {
                harness.setProcessingTime(t);
            }
            harness.processElement(event("s1", blank, SCANNED_AT.plusSeconds(60)), 6L);
            assertThat(harness.getSideOutput(SlideTiler.REMOVED)).isNull();
            assertThat(harness.getSideOutput(SlideTiler.FAILED)).hasSize(1);
        }
    }

    @Test
    void sendsSlidesThatCannotBePlannedToTheSideOutputWithTheirCodes() throws Exception {
        try (var harness = harness()) {
            harness.setProcessingTime(42);
            harness.open();

            harness.processElement(event("missing", dir.resolve("absent.svs")), 1L);
            harness.processElement(event("corrupt", TestSlides.slideFixture("unreadable.svs")), 2L);
            harness.processElement(event("blank", blank), 3L);

            assertThat(harness.extractOutputValues()).isEmpty();
            List<SlideFailed> failed = new ArrayList<>();
            harness.getSideOutput(SlideTiler.FAILED).forEach(r -> failed.add(r.getValue()));
            assertThat(failed)
                    .extracting(f -> f.getSlideId() + ":" + f.getCode() + ":" + f.getStage())
                    .containsExactly(
                            "missing:" + ErrorCode.SLIDE_NOT_FOUND + ":plan",
                            "corrupt:" + ErrorCode.CORRUPT_SLIDE + ":plan",
                            "blank:" + ErrorCode.NO_TISSUE + ":plan");
            assertThat(failed)
                    .allSatisfy(
                            f -> {
                                assertThat(f.getMessage()).isNotBlank();
                                assertThat(f.getFailedAt()).isEqualTo(Instant.ofEpochMilli(42));
                            });
            // Only the memory of each slide's latest scan is kept.
            assertThat(harness.numKeyedStateEntries()).isEqualTo(3);
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void keepsItsStateAsAPojoNotKryo() {
        assertThat(SlideTiler.PENDING_TYPE).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(PendingTileTasks.class)).isEqualTo(SlideTiler.PENDING_TYPE);
        assertThat(SlideTiler.FOOTPRINT_TYPE).isInstanceOf(PojoTypeInfo.class);
    }

    @Test
    void admitsABacklogInArrivalOrderAtMostMaxActiveSlidesAtATime() throws Exception {
        TilingConfig one = TILING.toBuilder().set(TilingOptions.MAX_ACTIVE_SLIDES, 1).build();
        try (var harness = harness(one)) {
            harness.open();
            for (String id : List.of("s1", "s2", "s3", "s4")) {
                harness.processElement(event(id, slide), 0L);
            }
            // Only s1 is planned; the others wait without a plan in state.
            assertThat(slidesOf(harness.extractOutputValues())).containsExactly("s1");
            advance(harness, 0, 1_000);

            List<TileTask> out = harness.extractOutputValues();
            assertThat(out).hasSize(4 * TILES);
            // One slide after the other, each one's tasks contiguous and in plan order.
            for (int s = 0; s < 4; s++) {
                List<TileTask> slideTasks = out.subList(s * TILES, (s + 1) * TILES);
                assertThat(slidesOf(slideTasks)).containsExactly("s" + (s + 1));
                assertThat(indices(slideTasks)).isEqualTo(range(0, TILES));
            }
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void aSlideThatCannotBePlannedReleasesItsSlotAndABacklogSurvivesARestore() throws Exception {
        TilingConfig one = TILING.toBuilder().set(TilingOptions.MAX_ACTIVE_SLIDES, 1).build();
        OperatorSubtaskState snapshot;
        try (var harness = harness(one)) {
            harness.open();
            harness.processElement(event("blank", blank), 0L);
            harness.processElement(event("s1", slide), 0L);
            harness.processElement(event("s2", slide), 0L);
            assertThat(harness.getSideOutput(SlideTiler.FAILED)).hasSize(1);
            // The blank slide's slot is free again: s1 starts at once, s2 waits.
            assertThat(slidesOf(harness.extractOutputValues())).containsExactly("s1");
            snapshot = harness.snapshot(1L, 0L);
        }
        try (var restored = harness(one)) {
            restored.initializeState(snapshot);
            restored.open();
            advance(restored, 0, 1_000);
            List<TileTask> out = restored.extractOutputValues();
            assertThat(slidesOf(out.subList(0, TILES - CHUNK))).containsExactly("s1");
            assertThat(slidesOf(out.subList(TILES - CHUNK, out.size()))).containsExactly("s2");
            assertThat(out).hasSize(2 * TILES - CHUNK);
        }
    }

    @Test
    void atTheEndOfInputFinishesTheSlidesBeingEmittedAndKeepsTheWaitingOnesInState()
            throws Exception {
        TilingConfig one = TILING.toBuilder().set(TilingOptions.MAX_ACTIVE_SLIDES, 1).build();
        OperatorSubtaskState snapshot;
        try (var harness = harness(one)) {
            harness.open();
            harness.processElement(event("s1", slide), 0L);
            harness.processElement(event("s2", slide), 0L);
            harness.setProcessingTime(1);
            assertThat(harness.extractOutputValues()).hasSize(2 * CHUNK);
            // A drain: the final watermark, then the end of input; no timer fires any more.
            harness.processWatermark(Watermark.MAX_WATERMARK);
            assertThat(harness.getOutput()).as("the final watermark is held").hasSize(2 * CHUNK);
            harness.endInput();

            assertThat(harness.extractOutputValues()).isEqualTo(expectedTasks("s1", 0, TILES));
            List<Object> out = new ArrayList<>(harness.getOutput());
            assertThat(out).hasSize(TILES + 1);
            assertThat(out.subList(0, TILES)).allMatch(o -> o instanceof StreamRecord);
            assertThat(out.get(TILES))
                    .as("then the final watermark")
                    .isEqualTo(Watermark.MAX_WATERMARK);
            snapshot = harness.snapshot(1L, 1L);
        }
        // s2 had not started: it waits in the (drain's) savepoint and starts after the resume.
        try (var resumed = harness(one)) {
            resumed.initializeState(snapshot);
            resumed.open();
            advance(resumed, 1, 1_000);
            assertThat(resumed.extractOutputValues()).hasSize(TILES);
            assertThat(slidesOf(resumed.extractOutputValues())).containsExactly("s2");
        }
    }

    @Test
    void aRequestToForgetClearsTheSlideSoThatEvenARepeatOfItsScanIsPlannedAgain() throws Exception {
        TilingConfig one = TILING.toBuilder().set(TilingOptions.MAX_ACTIVE_SLIDES, 1).build();
        try (var harness = harness(one)) {
            harness.open();
            harness.processElement(event("s1", slide), 0L);
            advance(harness, 0, 10);
            assertThat(harness.extractOutputValues()).hasSize(TILES);
            assertThat(harness.numKeyedStateEntries()).as("s1's scan memory").isEqualTo(2);

            harness.processElement(ForgetRequests.of("s1"), 0L);
            assertThat(harness.numKeyedStateEntries()).as("nothing of s1").isZero();
            assertThat(harness.getSideOutput(SlideTiler.REMOVED))
                    .extracting(r -> r.getValue())
                    .containsExactly(TileEmbedding.forgetting("s1"));
            // The very announcement that was forgotten is planned as new.
            harness.processElement(event("s1", slide), 0L);
            advance(harness, 10, 20);
            assertThat(harness.extractOutputValues()).hasSize(2 * TILES);

            // s2 is being emitted, s3 waits: forgetting both frees s2's slot and drops s3's turn,
            // so s4 starts at once and runs to its end.
            harness.processElement(event("s2", slide), 0L);
            harness.processElement(event("s3", slide), 0L);
            harness.processElement(event("s4", slide), 0L);
            harness.processElement(ForgetRequests.of("s2"), 0L);
            harness.processElement(ForgetRequests.of("s3"), 0L);
            advance(harness, 20, 1_000);
            List<TileTask> out = harness.extractOutputValues();
            assertThat(slidesOf(out.subList(2 * TILES, out.size()))).containsExactly("s2", "s4");
            assertThat(out.subList(2 * TILES + CHUNK, out.size()))
                    .isEqualTo(expectedTasks("s4", 0, TILES));
            assertThat(harness.numProcessingTimeTimers()).isZero();
            // Forgetting a slide the planner never saw changes nothing.
            harness.processElement(ForgetRequests.of("never-seen"), 0L);
            assertThat(harness.extractOutputValues()).hasSize(out.size());
            assertThat(harness.getSideOutput(SlideTiler.FAILED)).isNullOrEmpty();
        }
    }

    @Test
    void aSlideNotPlannedWithinThePlanTimeoutFailsWithTimeoutAndFreesItsSlot() throws Exception {
        // Every plan hangs as a native read of a damaged file would: it ignores interrupts and
        // returns only when the test releases it, so each slide misses the timeout.
        TilingConfig hurried =
                TILING.toBuilder()
                        .set(TilingOptions.MAX_ACTIVE_SLIDES, 1)
                        .set(TilingOptions.PLAN_TIMEOUT, Duration.ofMillis(50))
                        .build();
        CountDownLatch hang = new CountDownLatch(1);
        SlideTiler hanging =
                new SlideTiler(
                        hurried, List.of(), SlideReader.AUTO, null, GpfmTinyFixture.model()) {
                    @Override
                    TilePlan plan(String uri, OptionalDouble fallback) {
                        awaitIgnoringInterrupts(hang);
                        return super.plan(uri, fallback);
                    }
                };
        try (var harness = harness(new SlidePlannerOperator(hanging))) {
            harness.open();
            harness.processElement(event("s1", slide), 0L);
            harness.processElement(event("s2", slide), 0L);
            advance(harness, 0, 1_000);
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(SlideTiler.FAILED))
                    .extracting(r -> r.getValue().getSlideId() + ":" + r.getValue().getCode())
                    .containsExactly("s1:TIMEOUT", "s2:TIMEOUT");
            assertThat(harness.getSideOutput(SlideTiler.FAILED).peek().getValue().getMessage())
                    .contains("tiling.plan-timeout");
        } finally {
            hang.countDown();
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        boolean interrupted = false;
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> slidesOf(List<TileTask> tasks) {
        return tasks.stream().map(t -> t.slideId).distinct().collect(Collectors.toList());
    }

    private static void advance(
            KeyedOneInputStreamOperatorTestHarness<String, SlideScanned, TileTask> harness,
            long from,
            long to)
            throws Exception {
        for (long t = from + 1; t <= to; t++) {
            harness.setProcessingTime(t);
        }
    }

    static KeyedOneInputStreamOperatorTestHarness<String, SlideScanned, TileTask> harness()
            throws Exception {
        return harness(TILING);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, SlideScanned, TileTask> harness(
            TilingConfig tiling) throws Exception {
        return harness(operator(tiling));
    }

    static KeyedOneInputStreamOperatorTestHarness<String, SlideScanned, TileTask> harness(
            SlidePlannerOperator operator) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                operator, SlideScanned::getSlideId, Types.STRING);
    }

    static SlidePlannerOperator operator(TilingConfig tiling) {
        return new SlidePlannerOperator(
                new SlideTiler(tiling, List.of(), SlideReader.AUTO, null, GpfmTinyFixture.model()));
    }

    static SlideScanned event(String slideId, Path file) {
        return event(slideId, file, SCANNED_AT);
    }

    static SlideScanned event(String slideId, Path file, Instant scannedAt) {
        return SlideScanned.newBuilder()
                .setSlideId(slideId)
                .setUri(file.toString())
                .setScannedAt(scannedAt)
                .setScannerId("test")
                .build();
    }

    /** Tasks {@code from..to-1} of {@link #slide} as the known tissue layout gives them. */
    static List<TileTask> expectedTasks(String slideId, int from, int to) {
        List<TileTask> tasks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            TileTask t = new TileTask();
            t.slideId = slideId;
            t.uri = slide.toString();
            t.x = 256L + 256L * (i % COLUMNS);
            t.y = 256L + 256L * (i / COLUMNS);
            t.level = 0;
            t.readPx = 256;
            t.extentPx = 256;
            t.tilePx = 256;
            t.mpp = 0.5;
            t.tissue = tissue[i];
            t.tileIndex = i;
            t.tileCount = TILES;
            t.scannedAtMillis = SCANNED_AT.toEpochMilli();
            tasks.add(t);
        }
        return tasks;
    }

    static List<Integer> indices(List<TileTask> tasks) {
        return tasks.stream().map(t -> t.tileIndex).collect(Collectors.toList());
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    static List<Integer> concat(List<Integer> a, List<Integer> b) {
        List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
