package io.slidestream.aggregate;

import static io.slidestream.aggregate.TileEmbeddings.ONE_MINUTE_LATER;
import static io.slidestream.aggregate.TileEmbeddings.failedTile;
import static io.slidestream.aggregate.TileEmbeddings.tile;
import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Duration;
import java.util.List;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Failed-tile markers in the slide window, on the real window operator as {@link SlideWindows}
 * wires it: markers count as arrived, so a slide with failed tiles closes at once (not at its
 * timeout) - with no result when every tile failed, with one incomplete result of the embedded
 * tiles otherwise - and leaves the same clean state as any finished slide.
 */
class SlideWindowFailedTilesTest {
    private static final int D = 4;
    private static final Duration TIMEOUT = Duration.ofHours(1);
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
    void closesSlideWithoutResultOrStateWhenEveryTileFailed() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        for (int index = 0; index < 3; index++) {
            harness.processElement(failedTile("s1", index, 3, ErrorCode.CORRUPT_SLIDE), 0L);
        }

        // No result and no dead letter of its own: the reader already sent the slide's failure.
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(SlideWindowHarness.failures(harness)).isEmpty();
        // Closed at once, without the timeout: only the done marker and its expiry timer are left.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isZero();

        // A late marker of the same run is dropped; after the retention nothing is left.
        harness.processElement(failedTile("s1", 1, 3, ErrorCode.CORRUPT_SLIDE), 0L);
        harness.setProcessingTime(START + RETENTION.toMillis());
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        harness.setProcessingTime(START + TIMEOUT.toMillis() + RETENTION.toMillis());
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(SlideWindowHarness.failures(harness)).isEmpty();
    }

    @Test
    void emitsOneIncompleteResultOfTheEmbeddedTilesWhenSomeFailed() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(tile("s1", 0, 4, D), 0L);
        harness.processElement(failedTile("s1", 1, 4, ErrorCode.INFERENCE_FAILED), 0L);
        harness.processElement(tile("s1", 2, 4, D), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(failedTile("s1", 3, 4, ErrorCode.TIMEOUT), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        SlideResult result = results.get(0);
        assertThat(result.getComplete()).isFalse();
        assertThat(result.getTileCount()).isEqualTo(4);
        assertThat(result.getTilesReceived()).isEqualTo(2);
        // The mean of tiles 0 and 2 only: [1, 1.5, 2, 2.5].
        assertThat(result.getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
        assertThat(result.getModelId()).isEqualTo(TileEmbeddings.MODEL_ID);
        // Fired on the last marker, not on the timeout an hour later.
        assertThat(result.getCompletedAt()).isEqualTo(ONE_MINUTE_LATER);
        assertThat(result.getIncompleteReason())
                .isEqualTo(
                        "TILES_FAILED: 2 of 4 tiles could not be read or embedded (see"
                                + " slide_errors)");
        assertThat(SlideWindowHarness.failures(harness)).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numEventTimeTimers()).isZero();

        harness.setProcessingTime(START + TIMEOUT.toMillis() + RETENTION.toMillis());
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void countsDuplicateMarkersOnce() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(failedTile("s1", 1, 3, ErrorCode.CORRUPT_SLIDE), 0L);
        harness.processElement(failedTile("s1", 1, 3, ErrorCode.CORRUPT_SLIDE), 0L);
        harness.processElement(tile("s1", 0, 3, D), 0L);
        // A marker for a tile that already arrived does not count a second time either.
        harness.processElement(failedTile("s1", 0, 3, ErrorCode.INFERENCE_FAILED), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.processElement(tile("s1", 2, 3, D), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getComplete()).isFalse();
        assertThat(results.get(0).getTilesReceived()).isEqualTo(2);
        assertThat(results.get(0).getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
    }

    @Test
    void givesNoResultWhenOnlyMarkersArrivedByTheTimeout() throws Exception {
        harness = SlideWindowHarness.open(CONFIG, null, START);
        harness.processElement(failedTile("s1", 0, 5, ErrorCode.CORRUPT_SLIDE), 0L);
        harness.processElement(failedTile("s1", 3, 5, ErrorCode.CORRUPT_SLIDE), 0L);

        harness.setProcessingTime(START + TIMEOUT.toMillis());

        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(SlideWindowHarness.failures(harness)).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numEventTimeTimers()).isZero();
    }
}
