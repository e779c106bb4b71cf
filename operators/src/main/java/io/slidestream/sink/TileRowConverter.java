package io.slidestream.sink;

import io.slidestream.aggregate.SlideStatistics;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Clock;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryArrayData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.flink.FlinkSchemaUtil;

/**
 * Turns each {@link TileEmbedding} into one row of the Iceberg {@code tiles} table ({@link
 * IcebergTables#TILES_SCHEMA}, columns in schema order). {@code tile_key} is the Milvus key, {@code
 * predicted_class} the argmax of the head probabilities (-1 without a tile head), {@code
 * written_at} the time of conversion. A {@linkplain TileEmbedding#removal removal} becomes a {@link
 * RowKind#DELETE} row with the key columns only (tile_key, slide_id, model_id, level, x, y): the
 * upsert sink writes it as an equality delete of that key. Stateless.
 */
public final class TileRowConverter implements MapFunction<TileEmbedding, RowData> {
    private static final long serialVersionUID = 1L;

    private final Clock clock;

    public TileRowConverter() {
        this(Clock.systemUTC());
    }

    /** With {@code clock} for {@code written_at} (tests pass a fixed clock). */
    public TileRowConverter(Clock clock) {
        this.clock = clock;
    }

    /** The Flink type of the rows: RowData of the table schema, never Kryo. */
    public static InternalTypeInfo<RowData> typeInfo() {
        return InternalTypeInfo.of(FlinkSchemaUtil.convert(IcebergTables.TILES_SCHEMA));
    }

    @Override
    public RowData map(TileEmbedding tile) {
        long key = MilvusKeys.tileKey(tile.slideId, tile.modelId, tile.level, tile.x, tile.y);
        if (tile.removed) {
            GenericRowData delete =
                    new GenericRowData(RowKind.DELETE, IcebergTables.TILES_SCHEMA.columns().size());
            delete.setField(0, key);
            delete.setField(1, StringData.fromString(tile.slideId));
            delete.setField(2, StringData.fromString(tile.modelId));
            delete.setField(3, tile.level);
            delete.setField(4, tile.x);
            delete.setField(5, tile.y);
            return delete;
        }
        float[] head = tile.headProbabilities == null ? new float[0] : tile.headProbabilities;
        // The embedding in Flink's binary array layout: serialising the row to the Iceberg writer
        // copies its bytes, where a GenericArrayData is converted by boxing every float.
        return GenericRowData.of(
                key,
                StringData.fromString(tile.slideId),
                StringData.fromString(tile.modelId),
                tile.level,
                tile.x,
                tile.y,
                tile.tilePx,
                tile.mpp,
                tile.tissue,
                tile.tileIndex,
                tile.tileCount,
                BinaryArrayData.fromPrimitiveArray(tile.embedding),
                new GenericArrayData(head),
                SlideStatistics.argmax(head),
                TimestampData.fromEpochMillis(tile.scannedAtMillis),
                TimestampData.fromEpochMillis(clock.millis()),
                StringData.fromString(tile.uri),
                tile.readPx,
                tile.extentPx);
    }
}
