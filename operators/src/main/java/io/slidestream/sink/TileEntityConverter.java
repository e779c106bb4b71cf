package io.slidestream.sink;

import static io.slidestream.schemas.milvus.MilvusCollections.EMBEDDING;
import static io.slidestream.schemas.milvus.MilvusCollections.EXTENT_PX;
import static io.slidestream.schemas.milvus.MilvusCollections.HEAD_PROBABILITIES;
import static io.slidestream.schemas.milvus.MilvusCollections.LEVEL;
import static io.slidestream.schemas.milvus.MilvusCollections.MODEL_ID;
import static io.slidestream.schemas.milvus.MilvusCollections.MPP;
import static io.slidestream.schemas.milvus.MilvusCollections.PREDICTED_CLASS;
import static io.slidestream.schemas.milvus.MilvusCollections.READ_PX;
import static io.slidestream.schemas.milvus.MilvusCollections.SCANNED_AT;
import static io.slidestream.schemas.milvus.MilvusCollections.SLIDE_ID;
import static io.slidestream.schemas.milvus.MilvusCollections.TILE_KEY;
import static io.slidestream.schemas.milvus.MilvusCollections.TILE_PX;
import static io.slidestream.schemas.milvus.MilvusCollections.TISSUE;
import static io.slidestream.schemas.milvus.MilvusCollections.URI;
import static io.slidestream.schemas.milvus.MilvusCollections.X;
import static io.slidestream.schemas.milvus.MilvusCollections.Y;

import com.google.gson.JsonObject;
import io.slidestream.aggregate.SlideStatistics;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollection;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;

/**
 * {@link TileEmbedding} to an entity of the Milvus {@code tiles} collection, keyed by {@link
 * MilvusKeys#tileKey}. The predicted class is the argmax of the tile-head probabilities (-1 without
 * a tile head). A {@linkplain TileEmbedding#removal removal} deletes its key.
 */
public final class TileEntityConverter implements MilvusEntityConverter<TileEmbedding> {
    private static final long serialVersionUID = 1L;

    @Override
    public MilvusCollection collection() {
        return MilvusCollections.TILES;
    }

    @Override
    public int dimension(TileEmbedding tile) {
        return tile.embedding == null ? 0 : tile.embedding.length;
    }

    @Override
    public long key(TileEmbedding tile) {
        return MilvusKeys.tileKey(tile.slideId, tile.modelId, tile.level, tile.x, tile.y);
    }

    @Override
    public boolean removes(TileEmbedding tile) {
        return tile.removed;
    }

    @Override
    public JsonObject toEntity(TileEmbedding tile) {
        float[] head = tile.headProbabilities == null ? new float[0] : tile.headProbabilities;
        if (head.length > MilvusCollections.MAX_CLASSES) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "The tile head gives "
                            + head.length
                            + " classes; Milvus stores at most "
                            + MilvusCollections.MAX_CLASSES
                            + " per tile ("
                            + describe(tile)
                            + ").");
        }
        JsonObject entity = new JsonObject();
        entity.addProperty(TILE_KEY, key(tile));
        entity.add(EMBEDDING, MilvusJson.floats(tile.embedding));
        entity.addProperty(SLIDE_ID, tile.slideId);
        entity.addProperty(X, tile.x);
        entity.addProperty(Y, tile.y);
        entity.addProperty(EXTENT_PX, tile.extentPx);
        entity.addProperty(LEVEL, tile.level);
        entity.addProperty(READ_PX, tile.readPx);
        entity.addProperty(TILE_PX, tile.tilePx);
        entity.addProperty(URI, tile.uri);
        entity.addProperty(MPP, tile.mpp);
        entity.addProperty(TISSUE, tile.tissue);
        entity.addProperty(MODEL_ID, tile.modelId);
        entity.add(HEAD_PROBABILITIES, MilvusJson.floats(head));
        entity.addProperty(PREDICTED_CLASS, SlideStatistics.argmax(head));
        entity.addProperty(SCANNED_AT, tile.scannedAtMillis);
        return entity;
    }

    @Override
    public String describe(TileEmbedding tile) {
        return "tile (" + tile.x + ", " + tile.y + ") L" + tile.level + " of slide " + tile.slideId;
    }
}
