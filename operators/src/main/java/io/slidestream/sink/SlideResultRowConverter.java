package io.slidestream.sink;

import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.milvus.MilvusKeys;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.iceberg.flink.FlinkSchemaUtil;

/**
 * Turns each {@link SlideResult} into one row of the Iceberg {@code slides} table ({@link
 * IcebergTables#SLIDES_SCHEMA}, columns in schema order), with the Milvus key in {@code slide_key}.
 * Stateless.
 */
public final class SlideResultRowConverter implements MapFunction<SlideResult, RowData> {
    private static final long serialVersionUID = 1L;

    /** The Flink type of the rows: RowData of the table schema, never Kryo. */
    public static InternalTypeInfo<RowData> typeInfo() {
        return InternalTypeInfo.of(FlinkSchemaUtil.convert(IcebergTables.SLIDES_SCHEMA));
    }

    @Override
    public RowData map(SlideResult slide) {
        List<ClassFraction> composition = slide.getTissueComposition();
        Object[] fractions = new Object[composition.size()];
        for (int i = 0; i < fractions.length; i++) {
            ClassFraction c = composition.get(i);
            fractions[i] = GenericRowData.of(StringData.fromString(c.getLabel()), c.getFraction());
        }
        List<AttentionTile> top = slide.getTopTiles();
        Object[] tiles = new Object[top.size()];
        for (int i = 0; i < tiles.length; i++) {
            AttentionTile t = top.get(i);
            tiles[i] = GenericRowData.of(t.getX(), t.getY(), t.getAttention());
        }
        return GenericRowData.of(
                MilvusKeys.slideKey(slide.getSlideId(), slide.getModelId()),
                StringData.fromString(slide.getSlideId()),
                StringData.fromString(slide.getUri()),
                StringData.fromString(slide.getModelId()),
                slide.getComplete(),
                slide.getTileCount(),
                slide.getTilesReceived(),
                slide.getLevel(),
                slide.getTilePx(),
                slide.getMpp(),
                TimestampData.fromInstant(slide.getScannedAt()),
                TimestampData.fromInstant(slide.getCompletedAt()),
                floats(slide.getLogits()),
                floats(slide.getProbabilities()),
                slide.getPredictedClass(),
                floats(slide.getMeanEmbedding()),
                new GenericArrayData(fractions),
                new GenericArrayData(tiles),
                floats(slide.getTileAttention()),
                StringData.fromString(slide.getIncompleteReason()),
                StringData.fromString(slide.getHeadId()),
                StringData.fromString(slide.getPredictedLabel()));
    }

    private static GenericArrayData floats(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return new GenericArrayData(out);
    }
}
