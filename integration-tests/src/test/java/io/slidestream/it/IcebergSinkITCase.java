package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.iceberg.IcebergTables;
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
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Iceberg sinks against a real JDBC catalog on SQLite in a temporary folder, in a Flink
 * MiniCluster with checkpoints on: rows land once committed and read back per slide.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class IcebergSinkITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

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

        long slideB =
                IcebergCatalogs.withTable(
                        config, config.tilesTable(), t -> IcebergTableReader.count(t, "slide-b"));
        assertThat(slideB).isEqualTo(12);
        boolean committed =
                IcebergCatalogs.withTable(
                        config, config.tilesTable(), t -> t.currentSnapshot() != null);
        assertThat(committed).isTrue();
        Record error = IcebergTableReader.rows(config, config.errorsTable()).get(0);
        assertThat(error.getField("code")).isEqualTo("CORRUPT_SLIDE");
    }

    @Test
    void aLaterJobWritingTheSameTilesAndSlidesReplacesTheirRows() throws Exception {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        for (int run = 0; run < 2; run++) {
            StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
            IcebergSinks.appendTiles(env.fromData(SinkTestData.tiles("slide-x", 4, 2, 8)), config);
            IcebergSinks.appendSlides(env.fromData("slide-x").map(new ToSlideResult()), config);
            env.execute("run " + run);
        }
        // Upserts on the identifier fields: the second job's rows replace the first job's.
        assertThat(IcebergTableReader.countPerSlide(config, config.tilesTable()))
                .isEqualTo(Map.of("slide-x", 4L));
        assertThat(IcebergTableReader.countPerSlide(config, config.slidesTable()))
                .isEqualTo(Map.of("slide-x", 1L));
        long snapshots =
                IcebergCatalogs.withTable(
                        config,
                        config.tilesTable(),
                        t -> (long) com.google.common.collect.Iterables.size(t.snapshots()));
        assertThat(snapshots).as("commits of the tiles table").isGreaterThanOrEqualTo(2);
    }

    @Test
    void movesATableWithTheOlderDayPartitioningToTheUpsertPartitioning() throws Exception {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        org.apache.iceberg.PartitionSpec older =
                org.apache.iceberg.PartitionSpec.builderFor(IcebergTables.TILES_SCHEMA)
                        .day("scanned_at")
                        .bucket("slide_id", IcebergTables.TILE_BUCKETS)
                        .build();
        createTilesTable(config, IcebergTables.TILES_SCHEMA, older);
        IcebergCatalogs.ensureTables(config);
        String spec =
                IcebergCatalogs.withTable(config, config.tilesTable(), t -> t.spec().toString());
        assertThat(spec).contains("bucket[16]").doesNotContain("day");
    }

    @Test
    void evolvesAVersionOneTilesTableInPlaceAndWritesTheGeometryIntoIt() throws Exception {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        // Version 1: key column tile_id, no uri, read_px or extent_px.
        List<org.apache.iceberg.types.Types.NestedField> v1 = new ArrayList<>();
        for (org.apache.iceberg.types.Types.NestedField f : IcebergTables.TILES_SCHEMA.columns()) {
            if (f.fieldId() == 1) {
                v1.add(org.apache.iceberg.types.Types.NestedField.required(1, "tile_id", f.type()));
            } else if (f.fieldId() <= 18) {
                v1.add(f);
            }
        }
        org.apache.iceberg.Schema v1Schema =
                new org.apache.iceberg.Schema(v1, IcebergTables.TILES_SCHEMA.identifierFieldIds());
        createTilesTable(config, v1Schema, IcebergTables.TILES_TABLE.partitioning());

        IcebergCatalogs.ensureTables(config);
        org.apache.iceberg.Schema evolved =
                IcebergCatalogs.withTable(config, config.tilesTable(), t -> t.schema());
        assertThat(evolved.findField("tile_id")).isNull();
        assertThat(evolved.findField("tile_key").fieldId()).isEqualTo(1);
        for (String added : List.of("uri", "read_px", "extent_px")) {
            assertThat(evolved.findField(added)).as(added).isNotNull();
            assertThat(evolved.findField(added).isOptional()).isTrue();
        }
        assertThat(evolved.identifierFieldIds())
                .isEqualTo(IcebergTables.TILES_SCHEMA.identifierFieldIds());

        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        IcebergSinks.appendTiles(env.fromData(SinkTestData.tiles("slide-v", 3, 3, 8)), config);
        env.execute("after the evolution");
        List<Record> rows =
                IcebergTableReader.rows(
                        config, config.tilesTable(), "tile_key", "uri", "read_px", "extent_px");
        assertThat(rows).hasSize(3);
        assertThat(rows)
                .allSatisfy(
                        r -> {
                            assertThat(r.getField("uri")).isEqualTo("/slides/slide-v.svs");
                            assertThat(r.getField("read_px")).isEqualTo(512);
                            assertThat(r.getField("extent_px")).isEqualTo(512L);
                        });
    }

    /** Creates the tiles table as an earlier SlideStream did, before the job ensures it. */
    private static void createTilesTable(
            IcebergConfig config,
            org.apache.iceberg.Schema schema,
            org.apache.iceberg.PartitionSpec spec) {
        org.apache.iceberg.catalog.Catalog catalog = IcebergCatalogs.open(config);
        try {
            if (catalog instanceof org.apache.iceberg.catalog.SupportsNamespaces ns) {
                ns.createNamespace(org.apache.iceberg.catalog.Namespace.of(config.namespace()));
            }
            catalog.createTable(
                    org.apache.iceberg.catalog.TableIdentifier.of(
                            config.namespace(), config.tilesTable()),
                    schema,
                    spec,
                    IcebergTables.TABLE_PROPERTIES);
        } finally {
            IcebergCatalogs.close(catalog);
        }
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
