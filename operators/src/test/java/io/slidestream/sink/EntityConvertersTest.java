package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntityConvertersTest {

    @Test
    void tileEntityHasExactlyTheCollectionFieldsAndTheDeterministicKey() {
        TileEmbedding tile = SinkTestData.tile("slide-a", 3, 4, 2, 16);
        JsonObject entity = new TileEntityConverter().toEntity(tile);

        assertThat(entity.keySet())
                .containsExactlyInAnyOrderElementsOf(MilvusCollections.TILES.fieldNames());
        assertThat(entity.get("tile_key").getAsLong())
                .isEqualTo(MilvusKeys.tileKey("slide-a", SinkTestData.MODEL_ID, 0, 256, 256));
        assertThat(entity.get("uri").getAsString()).isEqualTo("/slides/slide-a.svs");
        assertThat(entity.get("level").getAsInt()).isZero();
        assertThat(entity.get("read_px").getAsInt()).isEqualTo(512);
        assertThat(entity.get("extent_px").getAsLong()).isEqualTo(512);
        assertThat(entity.get("tile_px").getAsInt()).isEqualTo(256);
        assertThat(entity.getAsJsonArray("embedding")).hasSize(16);
        assertThat(entity.getAsJsonArray("embedding").get(7).getAsFloat())
                .isEqualTo(tile.embedding[7]);
        assertThat(entity.get("predicted_class").getAsInt()).isEqualTo(1);
        assertThat(new TileEntityConverter().dimension(tile)).isEqualTo(16);
    }

    @Test
    void slideEntityHasExactlyTheCollectionFields() {
        SlideResult slide = SinkTestData.slideResult("slide-b", 5, 8);
        JsonObject entity = new SlideEntityConverter().toEntity(slide);
        assertThat(entity.keySet())
                .containsExactlyInAnyOrderElementsOf(MilvusCollections.SLIDES.fieldNames());
        assertThat(entity.get("slide_key").getAsLong())
                .isEqualTo(MilvusKeys.slideKey("slide-b", SinkTestData.MODEL_ID));
        assertThat(entity.get("completed_at").getAsLong())
                .isEqualTo(SinkTestData.ONE_MINUTE_LATER.toEpochMilli());
    }

    @Test
    void slideWithoutMeanEmbeddingHasDimensionZero() {
        SlideResult slide = SinkTestData.slideResult("slide-c", 5, 8);
        slide.setMeanEmbedding(List.of());
        assertThat(new SlideEntityConverter().dimension(slide)).isZero();
    }

    @Test
    void rejectsMoreHeadClassesThanMilvusStores() {
        TileEmbedding tile = SinkTestData.tile("slide-a", 0, 1, 1, 4);
        tile.headProbabilities = new float[MilvusCollections.MAX_CLASSES + 1];
        assertThatThrownBy(() -> new TileEntityConverter().toEntity(tile))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("1025 classes")
                .extracting(e -> ((SlideStreamException) e).code())
                .isEqualTo(ErrorCode.MODEL_INVALID);
    }

    @Test
    void quotesFilterLiterals() {
        assertThat(MilvusStoreReader.quote("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    }
}
