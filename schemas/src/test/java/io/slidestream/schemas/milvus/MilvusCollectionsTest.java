package io.slidestream.schemas.milvus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.iceberg.IcebergTables;
import java.util.List;
import org.junit.jupiter.api.Test;

class MilvusCollectionsTest {

    @Test
    void collectionsAreKeyedByTheirKeysWithOneVectorEach() {
        assertThat(MilvusCollections.TILES.primaryField()).isEqualTo("tile_key");
        assertThat(MilvusCollections.SLIDES.primaryField()).isEqualTo("slide_key");
        assertThat(MilvusCollections.TILES.vectorField()).isEqualTo(MilvusCollections.EMBEDDING);
        assertThat(MilvusCollections.SLIDES.vectorField())
                .isEqualTo(MilvusCollections.MEAN_EMBEDDING);
        assertThat(MilvusCollections.TILES.defaultName()).isEqualTo("tiles_v2");
        assertThat(MilvusCollections.SLIDES.defaultName()).isEqualTo("slides_v2");
    }

    @Test
    void everyMilvusFieldIsAnIcebergColumnOfTheSameName() {
        assertThat(MilvusCollections.TILES.fieldNames())
                .contains("uri", "level", "read_px", "extent_px", "tile_px", "x", "y")
                .allSatisfy(
                        name ->
                                assertThat(IcebergTables.TILES_SCHEMA.findField(name))
                                        .as("Iceberg tiles.%s", name)
                                        .isNotNull());
        assertThat(MilvusCollections.SLIDES.fieldNames())
                .allSatisfy(
                        name ->
                                assertThat(IcebergTables.SLIDES_SCHEMA.findField(name))
                                        .as("Iceberg slides.%s", name)
                                        .isNotNull());
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
