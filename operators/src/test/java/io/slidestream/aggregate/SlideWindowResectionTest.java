package io.slidestream.aggregate;

import static io.slidestream.aggregate.TileEmbeddings.ONE_MINUTE_LATER;
import static io.slidestream.aggregate.TileEmbeddings.tile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resection-sized slide (15,000 tiles, D = 1024, 60 MB of embeddings) through the slide window:
 * the checkpointed state stays within a few percent of the raw floats, and the slide still
 * aggregates correctly. Logs the state size and the time the firing tile takes (assembling the bag,
 * the mean and the head), the figures quoted for issue 4 item 9.
 */
class SlideWindowResectionTest {
    private static final Logger LOG = LoggerFactory.getLogger(SlideWindowResectionTest.class);
    private static final int TILES = 15_000;
    private static final int D = 1024;
    private static final long RAW_BYTES = (long) TILES * D * Float.BYTES;
    private static final long START = ONE_MINUTE_LATER.toEpochMilli();

    /**
     * Tile i's embedding: uniform values in [-0.5, 0.5) seeded by i, as incompressible as real
     * embeddings (a regular pattern would let RocksDB's block compression hide the state size).
     */
    private static TileEmbedding resectionTile(int i) {
        SplittableRandom random = new SplittableRandom(i);
        float[] e = new float[D];
        for (int d = 0; d < D; d++) {
            e[d] = (float) random.nextDouble() - 0.5f;
        }
        return tile("resection", i, TILES, e);
    }

    @Test
    void keepsResectionStateCompactOnHeap() throws Exception {
        aggregateResection(false);
    }

    @Test
    void keepsResectionStateCompactOnRocksDb() throws Exception {
        aggregateResection(true);
    }

    private void aggregateResection(boolean rocksDb) throws Exception {
        FakeSlideHead.Calls calls = new FakeSlideHead.Calls();
        calls.keepBags = false;
        KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness =
                SlideWindowHarness.create(
                        AggregateConfig.builder().set(AggregateOptions.TOP_K, 16).build(),
                        FakeSlideHead.factory(D, 3, calls));
        if (rocksDb) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        // The default in-memory checkpoint storage stops at 5 MB.
        harness.setCheckpointStorage(new JobManagerCheckpointStorage(256 << 20));
        harness.setProcessingTime(START);
        harness.open();
        try {
            // The expected mean, summed here independently of the operator.
            double[] expected = new double[D];
            long ingestNanos = 0;
            for (int i = 0; i < TILES - 1; i++) {
                TileEmbedding tile = resectionTile(i);
                for (int d = 0; d < D; d++) {
                    expected[d] += tile.embedding[d];
                }
                long start = System.nanoTime();
                harness.processElement(tile, 0L);
                ingestNanos += System.nanoTime() - start;
            }

            OperatorSubtaskState snapshot = harness.snapshot(1L, START);
            long stateBytes = 0;
            for (KeyedStateHandle handle : snapshot.getManagedKeyedState()) {
                stateBytes += handle.getStateSize();
            }

            TileEmbedding last = resectionTile(TILES - 1);
            for (int d = 0; d < D; d++) {
                expected[d] = (expected[d] + last.embedding[d]) / TILES;
            }
            long fireStart = System.nanoTime();
            harness.processElement(last, 0L);
            long fireNanos = System.nanoTime() - fireStart;

            LOG.info(
                    "{}: {} tiles x D={} ({} MB raw): checkpointed state {} MB ({} bytes/tile,"
                            + " {}% over raw); ingest {} ms ({} us/tile); firing tile {} ms",
                    rocksDb ? "RocksDB" : "heap",
                    TILES - 1,
                    D,
                    RAW_BYTES / 1_000_000.0,
                    stateBytes / 1_000_000.0,
                    stateBytes / (TILES - 1),
                    String.format("%.1f", 100.0 * (stateBytes - RAW_BYTES) / RAW_BYTES),
                    ingestNanos / 1_000_000,
                    ingestNanos / 1_000 / (TILES - 1),
                    fireNanos / 1_000_000);

            // The heap snapshot is the serialized state alone (3.8% over raw: key, tile metadata).
            // RocksDB's SST files add block indexes and, before a compaction merges them, more
            // than one file per level; how many depends on when its background flushes ran
            // (4.2% to 5.1% over raw seen on the same input), so its bound is looser.
            long upper = rocksDb ? RAW_BYTES * 108 / 100 : RAW_BYTES * 105 / 100;
            assertThat(stateBytes).isBetween(RAW_BYTES * 99 / 100, upper);
            List<SlideResult> results = harness.extractOutputValues();
            assertThat(results).hasSize(1);
            SlideResult result = results.get(0);
            assertThat(result.getComplete()).isTrue();
            assertThat(result.getTilesReceived()).isEqualTo(TILES);
            assertThat(result.getMeanEmbedding()).hasSize(D);
            for (int d = 0; d < D; d++) {
                assertThat(result.getMeanEmbedding().get(d))
                        .isCloseTo((float) expected[d], within(1e-6f));
            }
            assertThat(result.getTopTiles()).hasSize(16);
            assertThat(calls.predictions).isEqualTo(1);
        } finally {
            harness.close();
        }
    }
}
