package io.slidestream.sink;

import static io.slidestream.schemas.milvus.MilvusCollections.COMPLETE;
import static io.slidestream.schemas.milvus.MilvusCollections.COMPLETED_AT;
import static io.slidestream.schemas.milvus.MilvusCollections.LEVEL;
import static io.slidestream.schemas.milvus.MilvusCollections.MEAN_EMBEDDING;
import static io.slidestream.schemas.milvus.MilvusCollections.MODEL_ID;
import static io.slidestream.schemas.milvus.MilvusCollections.MPP;
import static io.slidestream.schemas.milvus.MilvusCollections.PREDICTED_CLASS;
import static io.slidestream.schemas.milvus.MilvusCollections.PROBABILITIES;
import static io.slidestream.schemas.milvus.MilvusCollections.SCANNED_AT;
import static io.slidestream.schemas.milvus.MilvusCollections.SLIDE_ID;
import static io.slidestream.schemas.milvus.MilvusCollections.SLIDE_KEY;
import static io.slidestream.schemas.milvus.MilvusCollections.TILES_RECEIVED;
import static io.slidestream.schemas.milvus.MilvusCollections.TILE_COUNT;
import static io.slidestream.schemas.milvus.MilvusCollections.TILE_PX;
import static io.slidestream.schemas.milvus.MilvusCollections.URI;

import com.google.gson.JsonObject;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.milvus.MilvusCollection;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusKeys;
import java.util.List;

/**
 * {@link SlideResult} to an entity of the Milvus {@code slides} collection, keyed by {@link
 * MilvusKeys#slideKey}. A result without a mean embedding (a slide that timed out before any tile
 * arrived) has dimension 0: the sink skips it, its Iceberg row still records it.
 */
public final class SlideEntityConverter implements MilvusEntityConverter<SlideResult> {
    private static final long serialVersionUID = 1L;

    @Override
    public MilvusCollection collection() {
        return MilvusCollections.SLIDES;
    }

    @Override
    public int dimension(SlideResult slide) {
        List<Float> mean = slide.getMeanEmbedding();
        return mean == null ? 0 : mean.size();
    }

    @Override
    public long key(SlideResult slide) {
        return MilvusKeys.slideKey(slide.getSlideId(), slide.getModelId());
    }

    @Override
    public JsonObject toEntity(SlideResult slide) {
        List<Float> probabilities = slide.getProbabilities();
        if (probabilities.size() > MilvusCollections.MAX_CLASSES) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "The slide head gives "
                            + probabilities.size()
                            + " classes; Milvus stores at most "
                            + MilvusCollections.MAX_CLASSES
                            + " ("
                            + describe(slide)
                            + ").");
        }
        JsonObject entity = new JsonObject();
        entity.addProperty(SLIDE_KEY, key(slide));
        entity.add(MEAN_EMBEDDING, MilvusJson.floats(slide.getMeanEmbedding()));
        entity.addProperty(SLIDE_ID, slide.getSlideId());
        entity.addProperty(MODEL_ID, slide.getModelId());
        entity.addProperty(URI, slide.getUri());
        entity.addProperty(PREDICTED_CLASS, slide.getPredictedClass());
        entity.add(PROBABILITIES, MilvusJson.floats(probabilities));
        entity.addProperty(COMPLETE, slide.getComplete());
        entity.addProperty(TILE_COUNT, slide.getTileCount());
        entity.addProperty(TILES_RECEIVED, slide.getTilesReceived());
        entity.addProperty(LEVEL, slide.getLevel());
        entity.addProperty(TILE_PX, slide.getTilePx());
        entity.addProperty(MPP, slide.getMpp());
        entity.addProperty(SCANNED_AT, slide.getScannedAt().toEpochMilli());
        entity.addProperty(COMPLETED_AT, slide.getCompletedAt().toEpochMilli());
        return entity;
    }

    @Override
    public String describe(SlideResult slide) {
        return "result of slide " + slide.getSlideId() + " (model " + slide.getModelId() + ")";
    }
}
