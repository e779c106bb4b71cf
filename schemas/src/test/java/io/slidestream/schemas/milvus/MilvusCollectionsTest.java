package io.slidestream.schemas.milvus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.iceberg.IcebergTables;
import java.util.List;
import org.junit.jupiter.api.Test;

class MilvusCollectionsTest {

    @Test
    void tilesCollectionIsKeyedByIdWithOneEmbeddingVector() {
        assertThat(MilvusCollections.TILES.primaryField()).isEqualTo(MilvusCollections.ID);
        assertThat(MilvusCollections.TILES.vectorField()).isEqualTo(MilvusCollections.EMBEDDING);
        assertThat(MilvusCollections.SLIDES.vectorField())
                .isEqualTo(MilvusCollections.MEAN_EMBEDDING);
    }

    @Test
    void scalarTileFieldsShareTheirNamesWithIcebergColumns() {
        for (String name :
                List.of("slide_id", "model_id", "x", "y", "level", "tile_px", "mpp", "tissue")) {
            assertThat(MilvusCollections.TILES.fieldNames()).contains(name);
            assertThat(IcebergTables.TILES_SCHEMA.findField(name)).isNotNull();
        }
    }

    @Test
    void rejectsACollectionWithoutVector() {
        assertThatThrownBy(
                        () ->
                                new MilvusCollection(
                                        "bad",
                                        "no vector",
                                        List.of(MilvusField.primaryKey("id", "key"))))
                .hasMessageContaining("exactly one vector field");
    }
}
