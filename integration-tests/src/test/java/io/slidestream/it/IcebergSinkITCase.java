package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergSinks;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.SinkTestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Iceberg sinks against a real JDBC catalog on SQLite in a temporary folder, in a Flink
 * MiniCluster with checkpoints on: rows land once committed and read back per slide.
 */
class IcebergSinkITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir Path dir;

    @Test
    void tileSlideAndErrorRowsLandAndCountPerSlide() throws Exception {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        List<TileEmbedding> tiles = new ArrayList<>();
        tiles.addAll(SinkTestData.tiles("slide-a", 37, 6, 32));
        tiles.addAll(SinkTestData.tiles("slide-b", 12, 4, 32));
        tiles.addAll(SinkTestData.tiles("slide-c", 5, 5, 32));

        StreamExecutionEnvironment env = StoreTestEnvironment.create(2);
        IcebergSinks.appendTiles(env.fromData(tiles), config);
        IcebergSinks.appendSlides(
                env.fromData("slide-a", "slide-b", "slide-c").map(new ToSlideResult()), config);
        IcebergSinks.appendErrors(env.fromData("slide-bad").map(new ToSlideFailed()), config);
        env.execute("iceberg sinks");

        assertThat(IcebergTableReader.countPerSlide(config, config.tilesTable()))
                .isEqualTo(Map.of("slide-a", 37L, "slide-b", 12L, "slide-c", 5L));
        assertThat(IcebergTableReader.countPerSlide(config, config.slidesTable()))
                .isEqualTo(Map.of("slide-a", 1L, "slide-b", 1L, "slide-c", 1L));
        assertThat(IcebergTableReader.countPerSlide(config, config.errorsTable()))
                .isEqualTo(Map.of("slide-bad", 1L));

        Table tilesTable = IcebergCatalogs.loadTable(config, config.tilesTable());
        assertThat(IcebergTableReader.count(tilesTable, "slide-b")).isEqualTo(12);
        assertThat(tilesTable.currentSnapshot()).isNotNull();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(IcebergCatalogs.loadTable(config, config.errorsTable()))
                        .build()) {
            Record error = rows.iterator().next();
            assertThat(error.getField("code")).isEqualTo("CORRUPT_SLIDE");
        }
    }

    @Test
    void tablesAreCreatedOnceAndReusedByALaterJob() throws Exception {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        for (int run = 0; run < 2; run++) {
            StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
            IcebergSinks.appendTiles(env.fromData(SinkTestData.tiles("slide-x", 4, 2, 8)), config);
            env.execute("run " + run);
        }
        // Appends are not upserts: two separate jobs writing the same tiles give two rows each.
        // Exactly-once holds within one job's checkpoints, which is what restarts replay.
        assertThat(IcebergTableReader.countPerSlide(config, config.tilesTable()))
                .isEqualTo(Map.of("slide-x", 8L));
    }

    private static final class ToSlideResult implements MapFunction<String, SlideResult> {
        @Override
        public SlideResult map(String slideId) {
            return SinkTestData.slideResult(slideId, 10, 32);
        }
    }

    private static final class ToSlideFailed implements MapFunction<String, SlideFailed> {
        @Override
        public SlideFailed map(String slideId) {
            return SinkTestData.slideFailed(slideId, "CORRUPT_SLIDE");
        }
    }
}
