package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.records.TileEmbedding;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class LatestScanGateTest {

    @Test
    void dropsEverythingOfAScanOlderThanTheLatestSeenPerSlide() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(tile("s1", 0, 100), 0L);
            harness.processElement(tile("s2", 0, 100), 0L);
            // The re-scan's removal passes, then a tile of the earlier scan still in flight.
            harness.processElement(TileEmbedding.removal("s1", "m", 0, 256, 0, 200), 0L);
            harness.processElement(tile("s1", 1, 100), 0L);
            harness.processElement(tile("s1", 0, 200), 0L);
            // Another slide is not affected by s1's re-scan.
            harness.processElement(tile("s2", 1, 100), 0L);

            assertThat(harness.extractOutputValues())
                    .extracting(t -> t.slideId + "#" + t.tileIndex + "@" + t.scannedAtMillis)
                    .containsExactly("s1#0@100", "s2#0@100", "s1#0@200", "s1#0@200", "s2#1@100");
            assertThat(harness.extractOutputValues().get(2).removed).isTrue();
        }
    }

    @Test
    void aForgetMarkerClearsTheSlideSoThatAnyScanOfItPassesAgain() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(tile("s1", 0, 200), 0L);
            harness.processElement(TileEmbedding.forgetting("s1"), 0L);
            assertThat(harness.numKeyedStateEntries()).as("nothing of s1").isZero();
            // An older scan than the one seen before passes: the slide starts afresh.
            harness.processElement(tile("s1", 0, 100), 0L);

            assertThat(harness.extractOutputValues())
                    .extracting(t -> t.slideId + "#" + t.tileIndex + "@" + t.scannedAtMillis)
                    .containsExactly("s1#0@200", "s1#0@0", "s1#0@100");
            assertThat(harness.extractOutputValues().get(1).forgotten)
                    .as("the marker goes on to the window")
                    .isTrue();
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, TileEmbedding>
            harness() throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new LatestScanGate(TilingConfig.builder().build())),
                t -> t.slideId,
                Types.STRING);
    }

    private static TileEmbedding tile(String slideId, int index, long scannedAt) {
        TileEmbedding t = new TileEmbedding();
        t.slideId = slideId;
        t.modelId = "m";
        t.tileIndex = index;
        t.tileCount = 2;
        t.scannedAtMillis = scannedAt;
        t.embedding = new float[] {1, 2};
        return t;
    }
}
