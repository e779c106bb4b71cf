package io.slidestream.sink;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.iceberg.IcebergTables;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.iceberg.flink.FlinkSchemaUtil;

/**
 * Turns each {@link SlideFailed} into one row of the Iceberg {@code slide_errors} table ({@link
 * IcebergTables#SLIDE_ERRORS_SCHEMA}, columns in schema order). Stateless.
 */
public final class SlideFailedRowConverter implements MapFunction<SlideFailed, RowData> {
    private static final long serialVersionUID = 1L;

    /** The Flink type of the rows: RowData of the table schema, never Kryo. */
    public static InternalTypeInfo<RowData> typeInfo() {
        return InternalTypeInfo.of(FlinkSchemaUtil.convert(IcebergTables.SLIDE_ERRORS_SCHEMA));
    }

    @Override
    public RowData map(SlideFailed failed) {
        return GenericRowData.of(
                StringData.fromString(failed.getSlideId()),
                StringData.fromString(failed.getUri()),
                StringData.fromString(failed.getCode()),
                StringData.fromString(failed.getMessage()),
                StringData.fromString(failed.getStage()),
                TimestampData.fromInstant(failed.getFailedAt()),
                StringData.fromString(failed.getModelId()));
    }
}
