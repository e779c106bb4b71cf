package io.slidestream.aggregate;

import static io.slidestream.aggregate.TileEmbeddings.ONE_MINUTE_LATER;
import static io.slidestream.aggregate.TileEmbeddings.SCANNED_AT;
import static io.slidestream.aggregate.TileEmbeddings.tile;
import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The slide window's firing rules, on the real window operator as {@link SlideWindows} wires it:
 * exactly one result per slide, on the last distinct tile or on the timeout, clean state and timers
 * afterwards, and a snapshot/restore round trip mid-slide.
 */
class SlideCompleteTriggerTest {
    private static final int D = 4;
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final Duration RETENTION = Duration.ofMinutes(30);
    private static final long START = ONE_MINUTE_LATER.toEpochMilli();
    private static final AggregateConfig CONFIG =
            AggregateConfig.builder()
                    .set(AggregateOptions.SLIDE_TIMEOUT, TIMEOUT)
                    .set(AggregateOptions.DONE_RETENTION, RETENTION)
                    .build();

    private KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness;

    @AfterEach
    void closeHarness() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    @Test
    void emitsSlideResultOnceAllTilesArrivedOutOfOrderIgnoringDuplicates() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);

        for (int index : new int[] {3, 0, 3, 4, 1, 0}) {
            harness.processElement(tile("s1", index, 5, D), 0L);
        }
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.processElement(tile("s1", 2, 5, D), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        SlideResult result = results.get(0);
        assertThat(result.getSlideId()).isEqualTo("s1");
        assertThat(result.getComplete()).isTrue();
        assertThat(result.getTileCount()).isEqualTo(5);
        assertThat(result.getTilesReceived()).isEqualTo(5);
        // Tiles 0..4 have embeddings [i, i + .5, i + 1, i + 1.5]: the mean is [2, 2.5, 3, 3.5]
        // only if each duplicate was counted once.
        assertThat(result.getMeanEmbedding()).containsExactly(2f, 2.5f, 3f, 3.5f);
        assertThat(result.getCompletedAt()).isEqualTo(ONE_MINUTE_LATER);
        assertThat(result.getScannedAt()).isEqualTo(SCANNED_AT);
        assertThat(result.getUri()).isEqualTo("file:///slides/s1.svs");

        harness.processElement(tile("s1", 2, 5, D), 0L);
        harness.setProcessingTime(START + TIMEOUT.toMillis() + 1);
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void emitsIncompleteResultWhenNoTileCameForTheTimeoutAndNothingAfterwards() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 4, D), 0L);
        harness.setProcessingTime(START + 60_000);
        harness.processElement(tile("s1", 2, 4, D), 0L);

        // The timeout runs from the latest tile, not the first: the slide was still progressing.
        harness.setProcessingTime(START + TIMEOUT.toMillis());
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.setProcessingTime(START + 60_000 + TIMEOUT.toMillis() - 1);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.setProcessingTime(START + 60_000 + TIMEOUT.toMillis());

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        SlideResult result = results.get(0);
        assertThat(result.getComplete()).isFalse();
        assertThat(result.getTilesReceived()).isEqualTo(2);
        assertThat(result.getTileCount()).isEqualTo(4);
        assertThat(result.getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
        assertThat(result.getCompletedAt())
                .isEqualTo(ONE_MINUTE_LATER.plusSeconds(60).plus(TIMEOUT));
        assertThat(result.getIncompleteReason())
                .isEqualTo(
                        "STALLED: no new tile for PT10M (aggregate.slide-timeout) (2 of 4 tiles"
                                + " embedded)");

        // Stragglers, even enough to complete the slide, give no second result.
        harness.processElement(tile("s1", 1, 4, D), 0L);
        harness.processElement(tile("s1", 3, 4, D), 0L);
        harness.setProcessingTime(START + 60_000 + TIMEOUT.toMillis() + RETENTION.toMillis());
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aSlideThatKeepsProgressingIsCutAtItsLongestDuration() throws Exception {
        Duration longest = TIMEOUT.multipliedBy(3);
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder()
                                .set(AggregateOptions.SLIDE_TIMEOUT, TIMEOUT)
                                .set(AggregateOptions.SLIDE_MAX_DURATION, longest)
                                .set(AggregateOptions.DONE_RETENTION, RETENTION)
                                .build(),
                        null,
                        START);
        int tiles = 100;
        long step = TIMEOUT.toMillis() / 2;
        long now = START;
        int sent = 0;
        // A tile every half timeout: never stalled, but open for longer than allowed.
        while (now < START + longest.toMillis()) {
            harness.setProcessingTime(now);
            assertThat(harness.extractOutputValues()).as("open at %d ms", now - START).isEmpty();
            harness.processElement(tile("s1", sent++, tiles, D), 0L);
            now += step;
        }
        harness.setProcessingTime(START + longest.toMillis());

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getTilesReceived()).isEqualTo(sent);
        assertThat(results.get(0).getIncompleteReason())
                .isEqualTo(
                        "MAX_DURATION: open for PT30M since its first tile"
                                + " (aggregate.slide-max-duration) ("
                                + sent
                                + " of 100 tiles embedded)");
        assertThat(results.get(0).getCompletedAt())
                .isEqualTo(Instant.ofEpochMilli(START + longest.toMillis()));
    }

    @Test
    void aCompleteResultNamesNoReason() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 2, D), 0L);
        harness.processElement(tile("s1", 1, 2, D), 0L);

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(r -> assertThat(r.getIncompleteReason()).isEmpty());
        // The reason state was never written, and nothing of the open slide is left.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
    }

    @Test
    void keepsInterleavedSlidesApart() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("a", 0, 2, D), 0L);
        harness.processElement(tile("b", 2, 3, D), 0L);
        harness.processElement(tile("b", 0, 3, D), 0L);
        harness.processElement(tile("a", 0, 2, D), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(tile("b", 1, 3, D), 0L);
        harness.processElement(tile("a", 1, 2, D), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).extracting(SlideResult::getSlideId).containsExactly("b", "a");
        assertThat(results).allMatch(SlideResult::getComplete);
        assertThat(results.get(0).getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
        assertThat(results.get(1).getMeanEmbedding()).containsExactly(0.5f, 1f, 1.5f, 2f);
    }

    @Test
    void cleansUpStateAndTimersWhenSlideIsDone() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 2, D), 0L);
        // Tiles, run, count, bitset, first and latest tile times, pending timer; the stall check
        // and the end-of-input timer.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(7);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);

        harness.processElement(tile("s1", 1, 2, D), 0L);

        // Only the done marker is left: the run's scanned_at, its expiry, and the expiry timer.
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isZero();

        harness.setProcessingTime(START + RETENTION.toMillis());
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void forgetsSlideAtOnceWithoutDoneRetention() throws Exception {
        AggregateConfig noRetention =
                AggregateConfig.builder()
                        .set(AggregateOptions.SLIDE_TIMEOUT, TIMEOUT)
                        .set(AggregateOptions.DONE_RETENTION, Duration.ZERO)
                        .build();
        harness = SlideWindowHarness.open(noRetention, null, START);
        harness.processElement(tile("s1", 0, 2, D), 0L);
        harness.setProcessingTime(START + TIMEOUT.toMillis());

        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void aggregatesReannouncedSlideAfresh() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 1, D), 0L);
        TileEmbedding rescanned = tile("s1", 0, 1, new float[] {9, 9, 9, 9});
        rescanned.scannedAtMillis = SCANNED_AT.plusSeconds(3600).toEpochMilli();
        harness.processElement(rescanned, 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(2);
        assertThat(results.get(1).getScannedAt()).isEqualTo(SCANNED_AT.plusSeconds(3600));
        assertThat(results.get(1).getMeanEmbedding()).containsExactly(9f, 9f, 9f, 9f);
        // The old run's marker and expiry timer were replaced by the new run's.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
    }

    @Test
    void aForgetMarkerDropsTheDoneMarkerOrTheOpenRunSoTheSameScanIsAggregatedAgain()
            throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 1, D), 0L);
        assertThat(harness.extractOutputValues()).hasSize(1);
        // Done: a repeat of the same scan would be dropped - unless the slide was forgotten.
        harness.processElement(TileEmbedding.forgetting("s1"), 0L);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        harness.processElement(tile("s1", 0, 1, D), 0L);
        assertThat(harness.extractOutputValues()).hasSize(2);

        // Open: forgotten mid-slide, its tiles go without a result, and it starts afresh.
        harness.processElement(tile("s2", 0, 2, D), 0L);
        harness.processElement(TileEmbedding.forgetting("s2"), 0L);
        harness.processElement(tile("s2", 1, 2, D), 0L);
        assertThat(harness.extractOutputValues()).hasSize(2);
        harness.processElement(tile("s2", 0, 2, D), 0L);
        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(3);
        assertThat(results.get(2).getSlideId()).isEqualTo("s2");
        assertThat(results.get(2).getTilesReceived()).isEqualTo(2);
    }

    @Test
    void aReScanWhileTheEarlierScanIsOpenAggregatesTheNewScanOnly() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        long later = SCANNED_AT.plusSeconds(3600).toEpochMilli();
        // Two of three tiles of the first scan, then the re-scan's two tiles interleaved with the
        // first scan's last tile, which must neither complete the old scan nor count for the new.
        harness.processElement(tile("s1", 0, 3, D), 0L);
        harness.processElement(tile("s1", 1, 3, D), 0L);
        harness.processElement(rescan(tile("s1", 0, 2, new float[] {8, 8, 8, 8}), later), 0L);
        harness.processElement(tile("s1", 2, 3, D), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(rescan(tile("s1", 1, 2, new float[] {10, 10, 10, 10}), later), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getScannedAt()).isEqualTo(Instant.ofEpochMilli(later));
        assertThat(results.get(0).getComplete()).isTrue();
        assertThat(results.get(0).getTileCount()).isEqualTo(2);
        assertThat(results.get(0).getMeanEmbedding()).containsExactly(9f, 9f, 9f, 9f);

        // A straggler of the superseded scan after the new one fired: no second result.
        harness.processElement(tile("s1", 2, 3, D), 0L);
        assertThat(harness.extractOutputValues()).hasSize(1);
        // Only the done marker (run + expiry) and its timer are left.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
    }

    private static TileEmbedding rescan(TileEmbedding tile, long scannedAtMillis) {
        tile.scannedAtMillis = scannedAtMillis;
        return tile;
    }

    @Test
    void emitsOpenSlidesAsPartialAtEndOfBoundedInput() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 1, 3, D), 0L);

        harness.processWatermark(Long.MAX_VALUE);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getComplete()).isFalse();
        assertThat(results.get(0).getTilesReceived()).isEqualTo(1);
        assertThat(results.get(0).getIncompleteReason())
                .isEqualTo(
                        "END_OF_INPUT: the input ended before every tile arrived (1 of 3 tiles"
                                + " embedded)");
    }

    @Test
    void resumesSlideAfterSnapshotAndRestore() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 3, D), 0L);
        harness.processElement(tile("s1", 2, 3, D), 0L);
        OperatorSubtaskState snapshot = harness.snapshot(1L, START);
        harness.close();

        harness = SlideWindowHarness.create(CONFIG, null);
        harness.setProcessingTime(START + 1_000);
        harness.initializeState(snapshot);
        harness.open();
        // A replayed tile from before the checkpoint is still recognised after the restore.
        harness.processElement(tile("s1", 2, 3, D), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(tile("s1", 1, 3, D), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getComplete()).isTrue();
        assertThat(results.get(0).getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
        assertThat(results.get(0).getCompletedAt()).isEqualTo(Instant.ofEpochMilli(START + 1_000));
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
    }

    @Test
    void keepsTimeoutDeadlineAcrossRestore() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 3, D), 0L);
        OperatorSubtaskState snapshot = harness.snapshot(1L, START);
        harness.close();

        harness = SlideWindowHarness.create(CONFIG, null);
        harness.setProcessingTime(START + 1_000);
        harness.initializeState(snapshot);
        harness.open();
        harness.setProcessingTime(START + TIMEOUT.toMillis());

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getComplete()).isFalse();
    }
}
