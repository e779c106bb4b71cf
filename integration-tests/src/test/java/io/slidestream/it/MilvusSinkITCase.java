package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.MilvusLite;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusSlideSink;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import io.slidestream.sink.MilvusTileSink;
import io.slidestream.sink.SinkTestData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Milvus sinks against a real Milvus Lite server started by the test, in a Flink MiniCluster
 * with checkpoints on: idempotent upserts, self-search, a server restart mid-write, and an outage
 * longer than the sink's retry window during which checkpoints go on completing.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class MilvusSinkITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final int D = 64;

    @TempDir static Path dir;

    private static MilvusLite milvus;

    @BeforeAll
    static void startMilvus() {
        milvus = MilvusLite.start(dir.resolve("milvus.db"));
    }

    @AfterAll
    static void stopMilvus() {
        if (milvus != null) {
            milvus.close();
        }
    }

    private static MilvusConfig config(String prefix) {
        return MilvusConfig.builder()
                .set(MilvusOptions.URI, milvus.uri())
                .set(MilvusOptions.TILES_COLLECTION, prefix + "_tiles")
                .set(MilvusOptions.SLIDES_COLLECTION, prefix + "_slides")
                .set(MilvusOptions.BATCH_SIZE, 16)
                .set(MilvusOptions.FLUSH_INTERVAL, Duration.ofMillis(100))
                .set(MilvusOptions.RETRY_INITIAL_BACKOFF, Duration.ofMillis(100))
                .set(MilvusOptions.RETRY_MAX_BACKOFF, Duration.ofMillis(500))
                .set(MilvusOptions.RETRY_MAX_WAIT, Duration.ofSeconds(60))
                .build();
    }

    @Test
    void upsertingEveryTileTwiceLeavesExactlyOneEntityPerTile() throws Exception {
        MilvusConfig config = config("twice");
        List<TileEmbedding> tiles = new ArrayList<>(SinkTestData.tiles("slide-a", 40, 8, D));
        tiles.addAll(SinkTestData.tiles("slide-b", 25, 5, D));
        List<TileEmbedding> twice = new ArrayList<>(tiles);
        twice.addAll(tiles);

        StreamExecutionEnvironment env = StoreTestEnvironment.create(2);
        env.fromData(twice).sinkTo(new MilvusTileSink(config)).name("milvus tiles");
        env.fromData("slide-a", "slide-b", "slide-a")
                .map(new ToSlideResult())
                .sinkTo(new MilvusSlideSink(config))
                .name("milvus slides");
        env.execute("upsert twice");

        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countTiles("slide-a")).isEqualTo(40);
            assertThat(reader.countTiles("slide-b")).isEqualTo(25);
            assertThat(reader.countSlides("slide-a")).isEqualTo(1);
            assertThat(reader.countSlides("slide-b")).isEqualTo(1);
        }
    }

    @Test
    void searchingWithATilesOwnEmbeddingFindsThatTileFirst() throws Exception {
        MilvusConfig config = config("search");
        List<TileEmbedding> tiles = SinkTestData.tiles("slide-s", 50, 10, D);
        StreamExecutionEnvironment env = StoreTestEnvironment.create(2);
        env.fromData(tiles).sinkTo(new MilvusTileSink(config));
        env.execute("search");

        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            for (int i : new int[] {0, 17, 49}) {
                TileEmbedding tile = tiles.get(i);
                List<TileHit> hits = reader.searchTiles(tile.embedding, 3, null);
                assertThat(hits).hasSize(3);
                TileHit first = hits.get(0);
                assertThat(first.tileKey())
                        .isEqualTo(
                                MilvusKeys.tileKey(
                                        tile.slideId, tile.modelId, tile.level, tile.x, tile.y));
                assertThat(first.x()).isEqualTo(tile.x);
                assertThat(first.y()).isEqualTo(tile.y);
                assertThat(first.score()).isGreaterThan(0.99f);
                assertThat(hits.get(1).score()).isLessThan(first.score());
            }
        }
    }

    /** The index and its search parameters come from the keys: IVF_FLAT with nprobe. */
    @Test
    void searchesAnIvfIndexWithTheConfiguredNprobe() throws Exception {
        MilvusConfig config =
                config("ivf").toBuilder()
                        .set(MilvusOptions.INDEX_TYPE, "IVF_FLAT")
                        .set(MilvusOptions.INDEX_PARAMS, java.util.Map.of("nlist", "16"))
                        .set(MilvusOptions.SEARCH_PARAMS, java.util.Map.of("nprobe", "16"))
                        .build();
        List<TileEmbedding> tiles = SinkTestData.tiles("slide-ivf", 60, 10, D);
        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        env.fromData(tiles).sinkTo(new MilvusTileSink(config));
        env.execute("ivf");
        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            TileEmbedding tile = tiles.get(23);
            List<TileHit> hits = reader.searchTiles(tile.embedding, 3, null);
            assertThat(hits.get(0).x()).isEqualTo(tile.x);
            assertThat(hits.get(0).y()).isEqualTo(tile.y);
        }
    }

    /**
     * Two models of different dimensions into one configured collection: the second gets its own
     * collection beside it, searches pick the collection by the query's length, and a removal sent
     * before its writer has seen a vector reaches the second model's collection.
     */
    @Test
    void aModelOfAnotherDimensionGetsItsOwnCollection() throws Exception {
        MilvusConfig config = config("dims");
        List<TileEmbedding> wide = SinkTestData.tiles("slide-w", 12, 4, D);
        List<TileEmbedding> narrow = SinkTestData.tiles("slide-n", 10, 5, 32);
        narrow.forEach(t -> t.modelId = "narrow-32");
        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        env.fromData(wide).sinkTo(new MilvusTileSink(config));
        env.execute("wide model");
        env = StoreTestEnvironment.create(1);
        env.fromData(narrow).sinkTo(new MilvusTileSink(config));
        env.execute("narrow model");

        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countWhere("dims_tiles", "slide_id != \"\"")).isEqualTo(12);
            assertThat(reader.countWhere("dims_tiles_d32", "slide_id != \"\"")).isEqualTo(10);
            assertThat(reader.countModel("dims_tiles", SinkTestData.MODEL_ID)).isEqualTo(12);
            assertThat(reader.countModel("dims_tiles", "narrow-32")).isEqualTo(10);
            assertThat(reader.holdsModel("narrow-32")).isTrue();
            TileEmbedding probe = narrow.get(3);
            List<TileHit> hits = reader.searchTiles(probe.embedding, 2, null);
            assertThat(hits.get(0).slideId()).isEqualTo("slide-n");
            assertThat(hits.get(0).x()).isEqualTo(probe.x);
            assertThat(
                            reader.findTiles(
                                    "slide-n",
                                    "narrow-32",
                                    java.util.OptionalInt.of(probe.level),
                                    probe.x,
                                    probe.y))
                    .hasSize(1);
        }

        // A new writer whose first record is a removal does not know its dimension yet.
        TileEmbedding first = narrow.get(0);
        env = StoreTestEnvironment.create(1);
        env.fromData(
                        TileEmbedding.removal(
                                first.slideId,
                                first.modelId,
                                first.level,
                                first.x,
                                first.y,
                                first.scannedAtMillis + 1))
                .sinkTo(new MilvusTileSink(config));
        env.execute("narrow removal");
        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countModel("dims_tiles", "narrow-32")).isEqualTo(9);
            assertThat(reader.countModel("dims_tiles", SinkTestData.MODEL_ID)).isEqualTo(12);
        }
    }

    @Test
    void sinkRetriesWhileMilvusIsDownAndLosesNothing() throws Exception {
        // A short RPC deadline: the client waits for the channel to be ready, so a request made
        // while the server is away fails only at its deadline and is then retried.
        MilvusConfig config =
                config("restart").toBuilder()
                        .set(MilvusOptions.RPC_TIMEOUT, Duration.ofSeconds(1))
                        .build();
        int count = 300;
        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        env.fromData(SinkTestData.tiles("slide-r", count, 20, D))
                .map(new Throttle(10))
                .sinkTo(new MilvusTileSink(config));
        JobClient job = env.executeAsync("restart mid-write");

        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            awaitCount(reader, "slide-r", 30);
        }
        int port = milvus.port();
        milvus.close();
        // Records keep flowing into the sink while the server is away; it must hold them. The
        // outage's length is part of the fault, not a wait for something to happen.
        outage(Duration.ofSeconds(3));
        assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
        milvus = MilvusLite.start(dir.resolve("milvus.db"), port);

        CompletableFuture<?> result = job.getJobExecutionResult();
        result.get();
        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countTiles("slide-r")).isEqualTo(count);
        }
    }

    @Test
    void checkpointsCompleteWhileMilvusIsAwayLongerThanTheRetryWindowAndNothingIsLost()
            throws Exception {
        Duration retryWindow = Duration.ofSeconds(3);
        MilvusConfig config =
                config("away").toBuilder()
                        .set(MilvusOptions.RPC_TIMEOUT, Duration.ofSeconds(1))
                        .set(MilvusOptions.RETRY_MAX_WAIT, retryWindow)
                        .build();
        int count = 400;
        CheckpointCounter.reset();
        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        env.fromData(SinkTestData.tiles("slide-away", count, 20, D))
                .map(new Throttle(10))
                .map(new CheckpointCounter())
                .sinkTo(new MilvusTileSink(config));
        JobClient job = env.executeAsync("Milvus away");

        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            awaitCount(reader, "slide-away", 30);
        }
        int port = milvus.port();
        milvus.close();
        long away = System.nanoTime();
        long checkpointsBefore = CheckpointCounter.COMPLETED.get();
        // Away for three retry windows, with checkpoints completing meanwhile (the unsent writes
        // are in them) and the job never failing over.
        Awaitility.await("checkpoints while Milvus is away")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .failFast("the job ended", () -> job.getJobStatus().get().isGloballyTerminalState())
                .until(
                        () ->
                                System.nanoTime() - away >= retryWindow.multipliedBy(3).toNanos()
                                        && CheckpointCounter.COMPLETED.get()
                                                >= checkpointsBefore + 5);
        long checkpointsDuring = CheckpointCounter.COMPLETED.get() - checkpointsBefore;
        milvus = MilvusLite.start(dir.resolve("milvus.db"), port);

        job.getJobExecutionResult().get();
        assertThat(CheckpointCounter.MAX_ATTEMPT.get()).as("restarts").isZero();
        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countTiles("slide-away")).isEqualTo(count);
        }
        System.out.printf(
                "MilvusSinkITCase: Milvus away %.1f s (retry window %s): %d checkpoints completed"
                        + " meanwhile, no restart, %d of %d tiles in Milvus afterwards%n",
                (System.nanoTime() - away) / 1e9, retryWindow, checkpointsDuring, count, count);
    }

    private static void awaitCount(MilvusStoreReader reader, String slide, long atLeast) {
        // The sink creates the collection with its first batch: until then counting fails.
        Awaitility.await("at least " + atLeast + " tiles of " + slide + " in Milvus")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> reader.countTiles(slide) >= atLeast);
    }

    /** Keeps a fault going for {@code length}: part of the fault, never a synchronisation. */
    private static void outage(Duration length) throws InterruptedException {
        Thread.sleep(length.toMillis());
    }

    /** Passes records on; counts completed checkpoints and notes restarts (attempt numbers). */
    private static final class CheckpointCounter
            extends RichMapFunction<TileEmbedding, TileEmbedding> implements CheckpointListener {
        static final AtomicLong COMPLETED = new AtomicLong();
        static final AtomicInteger MAX_ATTEMPT = new AtomicInteger();

        static void reset() {
            COMPLETED.set(0);
            MAX_ATTEMPT.set(0);
        }

        @Override
        public void open(OpenContext context) {
            MAX_ATTEMPT.accumulateAndGet(
                    getRuntimeContext().getTaskInfo().getAttemptNumber(), Math::max);
        }

        @Override
        public TileEmbedding map(TileEmbedding tile) {
            return tile;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            COMPLETED.incrementAndGet();
        }
    }

    /** Slows the source down so the test can stop Milvus while records are still flowing. */
    private static final class Throttle implements MapFunction<TileEmbedding, TileEmbedding> {
        private final long millis;

        Throttle(long millis) {
            this.millis = millis;
        }

        @Override
        public TileEmbedding map(TileEmbedding tile) throws InterruptedException {
            Thread.sleep(millis);
            return tile;
        }
    }

    private static final class ToSlideResult implements MapFunction<String, SlideResult> {
        @Override
        public SlideResult map(String slideId) {
            return SinkTestData.slideResult(slideId, 10, D);
        }
    }
}
