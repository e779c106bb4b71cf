package io.slidestream.schemas.iceberg;

import static org.apache.iceberg.types.Types.NestedField.optional;
import static org.apache.iceberg.types.Types.NestedField.required;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * The three Iceberg tables SlideStream writes, defined once: {@code tiles} (one row per tile
 * embedding), {@code slides} (one row per {@code SlideResult}) and {@code slide_errors} (one row
 * per {@code SlideFailed}). Column names match the Avro fields and the Milvus fields of the same
 * meaning; {@code tiles.tile_key} and {@code slides.slide_key} are the Milvus primary keys of the
 * same name, so the two stores join. Every column of the first version is required (no nulls):
 * absent head outputs are empty lists and a class index of -1.
 *
 * <p><b>Geometry of a tile</b> (as in Milvus): {@code x}, {@code y} (top-left, level-0 pixels) and
 * {@code extent_px} (edge, level-0 pixels) give its region; it was read as {@code read_px} pixels
 * square at pyramid level {@code level} and resized to {@code tile_px} at {@code mpp}.
 *
 * <p><b>Schema version 2</b> renamed {@code tiles.tile_id} to {@code tile_key} (same field id) and
 * added {@code uri}, {@code read_px} and {@code extent_px} (ids 19-21) as optional columns, and
 * {@code slides.tile_attention} (id 41); {@code slides.incomplete_reason} (id 43) came later: rows
 * written before have them null. {@code IcebergCatalogs.ensureTables} evolves a version 1 table in
 * place.
 *
 * <p>{@code tiles} and {@code slides} are written in upsert mode on their identifier fields: {@code
 * tiles} on (slide_id, model_id, level, x, y), {@code slides} on (slide_id, model_id, head_id), so
 * the predictions of several heads for one slide live side by side. A duplicate or replayed write
 * replaces the row instead of adding one, and a re-scan of a slide replaces its rows (the latest
 * write wins). {@code slide_errors} is appended to: it is a log.
 *
 * <p>Field ids are part of the table format: append new columns with new ids, never renumber.
 */
public final class IcebergTables {

    public static final String TILES = "tiles";
    public static final String SLIDES = "slides";
    public static final String SLIDE_ERRORS = "slide_errors";
    public static final String ERASURES = "erasures";

    /**
     * Buckets of slide_id in {@code tiles}: a slide's tiles are read from 1/16 of a day's files.
     */
    public static final int TILE_BUCKETS = 16;

    /**
     * Table properties set when a table is created. The dictionary limit is Parquet's per column
     * chunk: with Iceberg's 2 MB default the writer hashes half a million distinct embedding floats
     * into a dictionary before falling back to plain encoding (a tenth of the Iceberg sink's CPU);
     * 64 KB still holds the dictionaries of the string columns (a file has a few slide ids, URIs
     * and model ids) and gives up on the floats after 16 tiles. Iceberg 1.11 has no per-column
     * switch. A live job and a backfill commit to the same tables every checkpoint, so a commit
     * that lost the race to the other retries up to 10 times instead of Iceberg's 4.
     */
    public static final Map<String, String> TABLE_PROPERTIES =
            Map.of(
                    "format-version",
                    "2",
                    "write.parquet.compression-codec",
                    "zstd",
                    "write.parquet.dict-size-bytes",
                    "65536",
                    "commit.retry.num-retries",
                    "10");

    /** One row per tissue tile and model. */
    public static final Schema TILES_SCHEMA =
            new Schema(
                    List.of(
                            required(1, "tile_key", Types.LongType.get(), "Milvus tiles key"),
                            required(2, "slide_id", Types.StringType.get()),
                            required(3, "model_id", Types.StringType.get(), "model + checksum"),
                            required(4, "level", Types.IntegerType.get()),
                            required(5, "x", Types.LongType.get(), "left edge, level-0 px"),
                            required(6, "y", Types.LongType.get(), "top edge, level-0 px"),
                            required(7, "tile_px", Types.IntegerType.get()),
                            required(8, "mpp", Types.DoubleType.get(), "micrometres per pixel"),
                            required(9, "tissue", Types.FloatType.get(), "tissue fraction"),
                            required(10, "tile_index", Types.IntegerType.get()),
                            required(11, "tile_count", Types.IntegerType.get()),
                            required(
                                    12,
                                    "embedding",
                                    Types.ListType.ofRequired(13, Types.FloatType.get()),
                                    "tile embedding, length D"),
                            required(
                                    14,
                                    "head_probabilities",
                                    Types.ListType.ofRequired(15, Types.FloatType.get()),
                                    "tile-head probabilities; empty without a tile head"),
                            required(
                                    16,
                                    "predicted_class",
                                    Types.IntegerType.get(),
                                    "argmax of head_probabilities, -1 without a head"),
                            required(17, "scanned_at", Types.TimestampType.withZone()),
                            required(18, "written_at", Types.TimestampType.withZone()),
                            optional(19, "uri", Types.StringType.get(), "where the slide file is"),
                            optional(
                                    20,
                                    "read_px",
                                    Types.IntegerType.get(),
                                    "edge read at level, pixels of that level"),
                            optional(
                                    21,
                                    "extent_px",
                                    Types.LongType.get(),
                                    "tile edge on the slide, level-0 pixels")),
                    Set.of(2, 3, 4, 5, 6));

    /**
     * Partitioned by slide only: the table is written in upsert mode on its identifier fields, and
     * equality deletes reach only rows of the same partition, so every partition source must be one
     * of those fields (a day of {@code scanned_at} is not: a re-scan on another day would leave the
     * old row behind).
     */
    public static final PartitionSpec TILES_PARTITIONING =
            PartitionSpec.builderFor(TILES_SCHEMA).bucket("slide_id", TILE_BUCKETS).build();

    private static final Types.StructType CLASS_FRACTION =
            Types.StructType.of(
                    required(35, "label", Types.StringType.get()),
                    required(36, "fraction", Types.FloatType.get()));

    private static final Types.StructType ATTENTION_TILE =
            Types.StructType.of(
                    required(38, "x", Types.LongType.get()),
                    required(39, "y", Types.LongType.get()),
                    required(40, "attention", Types.FloatType.get()));

    /** One row per slide result ({@code SlideResult}, plus the Milvus key). */
    public static final Schema SLIDES_SCHEMA =
            new Schema(
                    List.of(
                            required(1, "slide_key", Types.LongType.get(), "Milvus slides key"),
                            required(2, "slide_id", Types.StringType.get()),
                            required(3, "uri", Types.StringType.get()),
                            required(4, "model_id", Types.StringType.get()),
                            required(5, "complete", Types.BooleanType.get()),
                            required(6, "tile_count", Types.IntegerType.get()),
                            required(7, "tiles_received", Types.IntegerType.get()),
                            required(8, "level", Types.IntegerType.get()),
                            required(9, "tile_px", Types.IntegerType.get()),
                            required(10, "mpp", Types.DoubleType.get()),
                            required(11, "scanned_at", Types.TimestampType.withZone()),
                            required(12, "completed_at", Types.TimestampType.withZone()),
                            required(
                                    13,
                                    "logits",
                                    Types.ListType.ofRequired(14, Types.FloatType.get())),
                            required(
                                    15,
                                    "probabilities",
                                    Types.ListType.ofRequired(16, Types.FloatType.get())),
                            required(17, "predicted_class", Types.IntegerType.get()),
                            required(
                                    18,
                                    "mean_embedding",
                                    Types.ListType.ofRequired(19, Types.FloatType.get())),
                            required(
                                    20,
                                    "tissue_composition",
                                    Types.ListType.ofRequired(34, CLASS_FRACTION)),
                            required(
                                    21, "top_tiles", Types.ListType.ofRequired(37, ATTENTION_TILE)),
                            optional(
                                    41,
                                    "tile_attention",
                                    Types.ListType.ofRequired(42, Types.FloatType.get()),
                                    "ABMIL attention of every tile by tile_index; 0 for a tile"
                                            + " that did not arrive; empty without a head"),
                            optional(
                                    43,
                                    "incomplete_reason",
                                    Types.StringType.get(),
                                    "Why the result is partial (TILES_FAILED, STALLED,"
                                            + " MAX_DURATION, END_OF_INPUT: details); empty when"
                                            + " complete"),
                            required(
                                    44,
                                    "head_id",
                                    Types.StringType.get(),
                                    "The slide head of this prediction (card head_id, or file"
                                            + " name + checksum); empty without a head"),
                            optional(
                                    45,
                                    "predicted_label",
                                    Types.StringType.get(),
                                    "Class name of predicted_class in the head's card")),
                    Set.of(2, 4, 44));

    /**
     * Required columns added after a table's first version: a table created before gets them as
     * optional columns (rows written before read null there) and keeps its old identifier fields;
     * writers still upsert on the full key, which Iceberg's equality deletes match null to null.
     */
    public static final Set<Integer> ADDED_AS_OPTIONAL = Set.of(44);

    /**
     * Unpartitioned: one small row per slide, model and head, upserted on (slide_id, model_id,
     * head_id).
     */
    public static final PartitionSpec SLIDES_PARTITIONING = PartitionSpec.unpartitioned();

    /** One row per failed slide or undecodable event ({@code SlideFailed}). */
    public static final Schema SLIDE_ERRORS_SCHEMA =
            new Schema(
                    required(1, "slide_id", Types.StringType.get()),
                    required(2, "uri", Types.StringType.get()),
                    required(3, "code", Types.StringType.get(), "io.slidestream ErrorCode"),
                    required(4, "message", Types.StringType.get()),
                    required(5, "stage", Types.StringType.get()),
                    required(6, "failed_at", Types.TimestampType.withZone()),
                    optional(
                            7,
                            "model_id",
                            Types.StringType.get(),
                            "The model of the job that failed it; null in rows written before"));

    public static final PartitionSpec SLIDE_ERRORS_PARTITIONING =
            PartitionSpec.builderFor(SLIDE_ERRORS_SCHEMA).day("failed_at").build();

    /**
     * A table's definition: its default name, schema and partitioning. A schema with identifier
     * fields is written in upsert mode on them (one row per key, the latest write wins); one
     * without is appended to.
     */
    public record TableDefinition(String defaultName, Schema schema, PartitionSpec partitioning) {
        /** The upsert key's column names, empty for an append-only table. */
        public List<String> upsertKey() {
            return schema.identifierFieldIds().stream()
                    .sorted()
                    .map(id -> schema.findField(id).name())
                    .toList();
        }
    }

    public static final TableDefinition TILES_TABLE =
            new TableDefinition(TILES, TILES_SCHEMA, TILES_PARTITIONING);
    public static final TableDefinition SLIDES_TABLE =
            new TableDefinition(SLIDES, SLIDES_SCHEMA, SLIDES_PARTITIONING);
    public static final TableDefinition SLIDE_ERRORS_TABLE =
            new TableDefinition(SLIDE_ERRORS, SLIDE_ERRORS_SCHEMA, SLIDE_ERRORS_PARTITIONING);

    /**
     * One row per slide erased on request ({@code slidestream forget}): who asked, when, why and
     * what was removed where - never the slide's id, only its SHA-256, so that no file of the
     * warehouse holds the id any more.
     */
    public static final Schema ERASURES_SCHEMA =
            new Schema(
                    required(1, "erased_at", Types.TimestampType.withZone()),
                    required(2, "slide_sha256", Types.StringType.get(), "SHA-256 of the slide id"),
                    required(3, "requested_by", Types.StringType.get()),
                    required(4, "reason", Types.StringType.get()),
                    required(5, "removed", Types.StringType.get(), "what went from which store"));

    public static final TableDefinition ERASURES_TABLE =
            new TableDefinition(ERASURES, ERASURES_SCHEMA, PartitionSpec.unpartitioned());

    private IcebergTables() {}
}
