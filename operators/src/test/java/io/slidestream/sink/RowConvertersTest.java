package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Clock;
import java.time.ZoneOffset;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.runtime.typeutils.RowDataSerializer;
import org.apache.iceberg.Schema;
import org.junit.jupiter.api.Test;

class RowConvertersTest {

    private static final Clock WRITE_CLOCK =
            Clock.fixed(SinkTestData.ONE_MINUTE_LATER.plusSeconds(5), ZoneOffset.UTC);

    @Test
    void tileRowCarriesEveryColumnByName() throws Exception {
        TileEmbedding tile = SinkTestData.tile("slide-a", 5, 12, 4, 8);
        RowData row =
                roundTrip(new TileRowConverter(WRITE_CLOCK).map(tile), TileRowConverter.typeInfo());
        Schema s = IcebergTables.TILES_SCHEMA;

        assertThat(row.getArity()).isEqualTo(s.columns().size());
        assertThat(row.getLong(pos(s, "tile_key")))
                .isEqualTo(MilvusKeys.tileKey("slide-a", SinkTestData.MODEL_ID, 0, 256, 256));
        assertThat(row.getString(pos(s, "slide_id")).toString()).isEqualTo("slide-a");
        assertThat(row.getLong(pos(s, "x"))).isEqualTo(256);
        assertThat(row.getLong(pos(s, "y"))).isEqualTo(256);
        assertThat(row.getInt(pos(s, "tile_px"))).isEqualTo(256);
        assertThat(row.getDouble(pos(s, "mpp"))).isEqualTo(0.5);
        assertThat(row.getArray(pos(s, "embedding")).toFloatArray())
                .containsExactly(tile.embedding);
        assertThat(row.getArray(pos(s, "head_probabilities")).toFloatArray())
                .containsExactly(0.1f, 0.7f, 0.2f);
        assertThat(row.getInt(pos(s, "predicted_class"))).isEqualTo(1);
        assertThat(row.getTimestamp(pos(s, "scanned_at"), 6).toInstant())
                .isEqualTo(SinkTestData.SCANNED_AT);
        assertThat(row.getTimestamp(pos(s, "written_at"), 6).toInstant())
                .isEqualTo(WRITE_CLOCK.instant());
        assertThat(row.getString(pos(s, "uri")).toString()).isEqualTo("/slides/slide-a.svs");
        assertThat(row.getInt(pos(s, "read_px"))).isEqualTo(512);
        assertThat(row.getLong(pos(s, "extent_px"))).isEqualTo(512);
    }

    @Test
    void tileWithoutHeadHasEmptyProbabilitiesAndClassMinusOne() throws Exception {
        TileEmbedding tile = SinkTestData.tile("slide-a", 0, 1, 1, 4);
        tile.headProbabilities = new float[0];
        RowData row = new TileRowConverter(WRITE_CLOCK).map(tile);
        Schema s = IcebergTables.TILES_SCHEMA;
        assertThat(row.getArray(pos(s, "head_probabilities")).size()).isZero();
        assertThat(row.getInt(pos(s, "predicted_class"))).isEqualTo(-1);
    }

    @Test
    void slideRowCarriesNestedCompositionAndTopTiles() throws Exception {
        SlideResult slide = SinkTestData.slideResult("slide-b", 9, 4);
        RowData row =
                roundTrip(
                        new SlideResultRowConverter().map(slide),
                        SlideResultRowConverter.typeInfo());
        Schema s = IcebergTables.SLIDES_SCHEMA;

        assertThat(row.getArity()).isEqualTo(s.columns().size());
        assertThat(row.getLong(pos(s, "slide_key")))
                .isEqualTo(MilvusKeys.slideKey("slide-b", SinkTestData.MODEL_ID));
        assertThat(row.getBoolean(pos(s, "complete"))).isTrue();
        assertThat(row.getInt(pos(s, "tiles_received"))).isEqualTo(9);
        assertThat(row.getArray(pos(s, "probabilities")).toFloatArray())
                .containsExactly(0.25f, 0.75f);
        assertThat(row.getArray(pos(s, "mean_embedding")).size()).isEqualTo(4);
        RowData fraction = row.getArray(pos(s, "tissue_composition")).getRow(1, 2);
        assertThat(fraction.getString(0).toString()).isEqualTo("stroma");
        assertThat(fraction.getFloat(1)).isEqualTo(0.4f);
        RowData top = row.getArray(pos(s, "top_tiles")).getRow(0, 3);
        assertThat(top.getLong(0)).isEqualTo(512L);
        assertThat(top.getFloat(2)).isEqualTo(0.3f);
        assertThat(row.getTimestamp(pos(s, "completed_at"), 6).toInstant())
                .isEqualTo(SinkTestData.ONE_MINUTE_LATER);
    }

    @Test
    void errorRowKeepsCodeStageAndTime() throws Exception {
        RowData row =
                roundTrip(
                        new SlideFailedRowConverter()
                                .map(SinkTestData.slideFailed("bad", "CORRUPT_SLIDE")),
                        SlideFailedRowConverter.typeInfo());
        Schema s = IcebergTables.SLIDE_ERRORS_SCHEMA;
        assertThat(row.getString(pos(s, "code")).toString()).isEqualTo("CORRUPT_SLIDE");
        assertThat(row.getString(pos(s, "stage")).toString()).isEqualTo("plan");
        assertThat(row.getTimestamp(pos(s, "failed_at"), 6).toInstant())
                .isEqualTo(SinkTestData.ONE_MINUTE_LATER);
    }

    @Test
    void rowTypesAreRowDataSerializersNotKryo() {
        for (InternalTypeInfo<RowData> type :
                java.util.List.of(
                        TileRowConverter.typeInfo(),
                        SlideResultRowConverter.typeInfo(),
                        SlideFailedRowConverter.typeInfo())) {
            assertThat(type.createSerializer(new SerializerConfigImpl()))
                    .isInstanceOf(RowDataSerializer.class);
        }
    }

    /** Serializes and deserializes the row: proves it matches the declared row type. */
    private static RowData roundTrip(RowData row, InternalTypeInfo<RowData> type) throws Exception {
        TypeSerializer<RowData> serializer = type.createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(row, out);
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    private static int pos(Schema schema, String column) {
        return schema.columns().indexOf(schema.findField(column));
    }
}
