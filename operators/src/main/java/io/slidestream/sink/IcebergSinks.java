package io.slidestream.sink;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.iceberg.IcebergTables.TableDefinition;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.flink.sink.IcebergSink;

/**
 * Appends the Iceberg sinks of SlideStream to a job graph: each stream is converted to {@link
 * RowData} of its table's schema and written by Iceberg's Flink sink - in upsert mode on the
 * table's identifier fields for {@code tiles} and {@code slides}, so a duplicate, a replay or a
 * re-scan replaces rows instead of adding them ({@code slide_errors} is appended to) - which writes
 * data files continuously and commits them once per checkpoint (and at the end of a bounded input).
 * Rows are therefore visible only after the checkpoint that covers them; after a failure the
 * uncommitted files are dropped and the replayed records written again - each row lands exactly
 * once.
 *
 * <p>The table is created when missing while the graph is built (on the client). Operator uids are
 * fixed ({@link #TILES_UID} ...): changing one orphans the sink's state in savepoints.
 */
public final class IcebergSinks {

    /** Uid prefix of the tiles sink; its converter is {@code <prefix>-rows}. */
    public static final String TILES_UID = "iceberg-tiles";

    public static final String SLIDES_UID = "iceberg-slides";
    public static final String ERRORS_UID = "iceberg-slide-errors";

    private IcebergSinks() {}

    /** Writes every tile embedding to the {@code tiles} table. */
    public static DataStreamSink<RowData> appendTiles(
            DataStream<TileEmbedding> tiles, IcebergConfig config) {
        return append(
                tiles,
                new TileRowConverter(),
                TileRowConverter.typeInfo(),
                config,
                IcebergTables.TILES_TABLE,
                config.tilesTable(),
                TILES_UID);
    }

    /** Writes every slide result to the {@code slides} table. */
    public static DataStreamSink<RowData> appendSlides(
            DataStream<SlideResult> slides, IcebergConfig config) {
        return append(
                slides,
                new SlideResultRowConverter(),
                SlideResultRowConverter.typeInfo(),
                config,
                IcebergTables.SLIDES_TABLE,
                config.slidesTable(),
                SLIDES_UID);
    }

    /** Writes every failure to the {@code slide_errors} table. */
    public static DataStreamSink<RowData> appendErrors(
            DataStream<SlideFailed> errors, IcebergConfig config) {
        return append(
                errors,
                new SlideFailedRowConverter(),
                SlideFailedRowConverter.typeInfo(),
                config,
                IcebergTables.SLIDE_ERRORS_TABLE,
                config.errorsTable(),
                ERRORS_UID);
    }

    private static <T> DataStreamSink<RowData> append(
            DataStream<T> input,
            MapFunction<T, RowData> converter,
            TypeInformation<RowData> rowType,
            IcebergConfig config,
            TableDefinition definition,
            String tableName,
            String uid) {
        IcebergCatalogs.ensureTable(config, definition, tableName);
        // The Sink V2 IcebergSink, not the older FlinkSink: FlinkSink sends its write results
        // between operators as a Kryo (generic) type, which the job switches off; IcebergSink's
        // committables travel with Iceberg's own versioned serializer.
        IcebergSink.Builder builder =
                IcebergSink.builderFor(input, converter, rowType)
                        .tableLoader(IcebergCatalogs.tableLoader(config, tableName))
                        .setAll(config.writeProperties())
                        .uidSuffix(uid);
        List<String> key = definition.upsertKey();
        if (!key.isEmpty()) {
            // Upsert: every row first deletes its key (an equality delete), so a duplicate, a
            // replay or a re-scan replaces the row; rows are distributed by the key.
            builder.upsert(true).equalityFieldColumns(key);
        }
        return builder.append()
                .name(
                        "Iceberg "
                                + config.namespace()
                                + "."
                                + tableName
                                + (key.isEmpty() ? "" : " (upsert)"));
    }
}
