package io.slidestream.schemas.milvus;

import static io.slidestream.schemas.milvus.MilvusFieldType.BOOL;
import static io.slidestream.schemas.milvus.MilvusFieldType.DOUBLE;
import static io.slidestream.schemas.milvus.MilvusFieldType.FLOAT;
import static io.slidestream.schemas.milvus.MilvusFieldType.FLOAT_VECTOR;
import static io.slidestream.schemas.milvus.MilvusFieldType.INT32;
import static io.slidestream.schemas.milvus.MilvusFieldType.INT64;

import java.util.List;

/**
 * The two Milvus collections SlideStream writes, defined once: {@code tiles} (one entity per tile
 * embedding, key {@code tile_key} = {@link MilvusKeys#tileKey}) and {@code slides} (one entity per
 * slide result, key {@code slide_key} = {@link MilvusKeys#slideKey}). Field names match the Iceberg
 * columns of the same meaning, keys included. Vectors are only comparable within one model, tile
 * size and resolution, so all three travel with every vector and can be used in search filters.
 *
 * <p><b>Geometry of a tile</b>: {@code x}, {@code y} (top-left, level-0 pixels) and {@code
 * extent_px} (edge in level-0 pixels) give its region on the slide; it was read as {@code read_px}
 * pixels square at pyramid level {@code level} and resized to {@code tile_px} at {@code mpp}.
 *
 * <p><b>Schema version {@value #SCHEMA_VERSION}</b> (keys named {@code tile_key}/{@code slide_key},
 * tiles with {@code uri}, {@code read_px}, {@code extent_px}). Milvus cannot rename or add fields
 * of a collection, so each version has its own default collection names ({@code tiles_v2}, {@code
 * slides_v2}); version 1 collections ({@code tiles}, {@code slides}, key {@code id}) are left as
 * they are.
 */
public final class MilvusCollections {

    /** Longest slide id, model id or URI accepted (Milvus VARCHAR limit in bytes). */
    public static final int MAX_ID_LENGTH = 512;

    /** Longest URI accepted in {@code slides}. */
    public static final int MAX_URI_LENGTH = 4096;

    /** Most classes a tile or slide head may have (Milvus allows array capacities up to 4096). */
    public static final int MAX_CLASSES = 1024;

    /** Version of the collections' fields; part of their default names. */
    public static final int SCHEMA_VERSION = 2;

    public static final String TILE_KEY = "tile_key";
    public static final String SLIDE_KEY = "slide_key";
    public static final String EMBEDDING = "embedding";
    public static final String MEAN_EMBEDDING = "mean_embedding";
    public static final String SLIDE_ID = "slide_id";
    public static final String MODEL_ID = "model_id";
    public static final String URI = "uri";
    public static final String X = "x";
    public static final String Y = "y";
    public static final String LEVEL = "level";
    public static final String READ_PX = "read_px";
    public static final String EXTENT_PX = "extent_px";
    public static final String TILE_PX = "tile_px";
    public static final String MPP = "mpp";
    public static final String TISSUE = "tissue";
    public static final String HEAD_PROBABILITIES = "head_probabilities";
    public static final String PROBABILITIES = "probabilities";
    public static final String PREDICTED_CLASS = "predicted_class";
    public static final String COMPLETE = "complete";
    public static final String TILE_COUNT = "tile_count";
    public static final String TILES_RECEIVED = "tiles_received";
    public static final String SCANNED_AT = "scanned_at";
    public static final String COMPLETED_AT = "completed_at";

    /** One entity per tile embedding. */
    public static final MilvusCollection TILES =
            new MilvusCollection(
                    "tiles_v" + SCHEMA_VERSION,
                    "SlideStream tile embeddings: one entity per tissue tile and model",
                    List.of(
                            MilvusField.primaryKey(
                                    TILE_KEY,
                                    "MilvusKeys.tileKey(slide_id, model_id, level, x, y)"),
                            MilvusField.of(EMBEDDING, FLOAT_VECTOR, "tile embedding (length D)"),
                            MilvusField.varchar(SLIDE_ID, MAX_ID_LENGTH, "slide id"),
                            MilvusField.of(X, INT64, "tile left edge, level-0 pixels"),
                            MilvusField.of(Y, INT64, "tile top edge, level-0 pixels"),
                            MilvusField.of(
                                    EXTENT_PX, INT64, "tile edge on the slide, level-0 pixels"),
                            MilvusField.of(LEVEL, INT32, "pyramid level the tile was read at"),
                            MilvusField.of(READ_PX, INT32, "edge read at that level, pixels"),
                            MilvusField.of(
                                    TILE_PX, INT32, "tile edge at the target resolution, pixels"),
                            MilvusField.of(MPP, DOUBLE, "target resolution, micrometres per pixel"),
                            MilvusField.of(TISSUE, FLOAT, "tissue fraction of the tile"),
                            MilvusField.varchar(URI, MAX_URI_LENGTH, "where the slide file is"),
                            MilvusField.varchar(MODEL_ID, MAX_ID_LENGTH, "model name + checksum"),
                            MilvusField.floatArray(
                                    HEAD_PROBABILITIES,
                                    MAX_CLASSES,
                                    "tile-head class probabilities; empty without a tile head"),
                            MilvusField.of(
                                    PREDICTED_CLASS,
                                    INT32,
                                    "argmax of the tile-head probabilities, -1 without a head"),
                            MilvusField.of(
                                    SCANNED_AT, INT64, "when the slide was scanned, epoch ms")));

    /** One entity per slide result (slide embedding = mean of its tile embeddings). */
    public static final MilvusCollection SLIDES =
            new MilvusCollection(
                    "slides_v" + SCHEMA_VERSION,
                    "SlideStream slide embeddings and predictions: one entity per slide and model",
                    List.of(
                            MilvusField.primaryKey(
                                    SLIDE_KEY, "MilvusKeys.slideKey(slide_id, model_id)"),
                            MilvusField.of(
                                    MEAN_EMBEDDING,
                                    FLOAT_VECTOR,
                                    "mean of the slide's tile embeddings (length D)"),
                            MilvusField.varchar(SLIDE_ID, MAX_ID_LENGTH, "slide id"),
                            MilvusField.varchar(MODEL_ID, MAX_ID_LENGTH, "model name + checksum"),
                            MilvusField.varchar(URI, MAX_URI_LENGTH, "where the slide file is"),
                            MilvusField.of(
                                    PREDICTED_CLASS,
                                    INT32,
                                    "argmax of the slide-head logits, -1 without a slide head"),
                            MilvusField.floatArray(
                                    PROBABILITIES,
                                    MAX_CLASSES,
                                    "slide-head class probabilities; empty without a head"),
                            MilvusField.of(COMPLETE, BOOL, "false when the slide window timed out"),
                            MilvusField.of(TILE_COUNT, INT32, "tissue tiles in the slide's plan"),
                            MilvusField.of(TILES_RECEIVED, INT32, "tiles aggregated"),
                            MilvusField.of(LEVEL, INT32, "pyramid level the tiles were read at"),
                            MilvusField.of(
                                    TILE_PX, INT32, "tile edge at the target resolution, pixels"),
                            MilvusField.of(MPP, DOUBLE, "tile resolution, micrometres per pixel"),
                            MilvusField.of(
                                    SCANNED_AT, INT64, "when the slide was scanned, epoch ms"),
                            MilvusField.of(
                                    COMPLETED_AT, INT64, "when the result was made, epoch ms")));

    private MilvusCollections() {}
}
