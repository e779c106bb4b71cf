package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import io.milvus.param.dml.InsertParam;
import io.milvus.v2.exception.ErrorCode;
import io.milvus.v2.exception.MilvusClientException;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusField;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MilvusColumnUpserterTest {

    @Test
    void turnsTileEntitiesIntoOneTypedColumnPerField() {
        TileEntityConverter converter = new TileEntityConverter();
        List<TileEmbedding> tiles = SinkTestData.tiles("s1", 3, 2, 16);
        List<JsonObject> entities = tiles.stream().map(converter::toEntity).toList();

        List<InsertParam.Field> columns =
                MilvusColumnUpserter.columns(MilvusCollections.TILES, entities);

        assertThat(columns)
                .extracting(InsertParam.Field::getName)
                .containsExactlyElementsOf(MilvusCollections.TILES.fieldNames());
        Map<String, List<?>> byName =
                columns.stream()
                        .collect(
                                Collectors.toMap(
                                        InsertParam.Field::getName, InsertParam.Field::getValues));
        for (int i = 0; i < tiles.size(); i++) {
            TileEmbedding tile = tiles.get(i);
            assertThat(byName.get(MilvusCollections.TILE_KEY).get(i))
                    .isEqualTo(converter.key(tile));
            assertThat(byName.get(MilvusCollections.EMBEDDING).get(i))
                    .isEqualTo(boxed(tile.embedding));
            assertThat(byName.get(MilvusCollections.HEAD_PROBABILITIES).get(i))
                    .isEqualTo(boxed(tile.headProbabilities));
            assertThat(byName.get(MilvusCollections.SLIDE_ID).get(i)).isEqualTo("s1");
            assertThat(byName.get(MilvusCollections.X).get(i)).isEqualTo(tile.x);
            assertThat(byName.get(MilvusCollections.LEVEL).get(i)).isEqualTo(tile.level);
            assertThat(byName.get(MilvusCollections.MPP).get(i)).isEqualTo(tile.mpp);
            assertThat(byName.get(MilvusCollections.TISSUE).get(i)).isEqualTo(tile.tissue);
            assertThat(byName.get(MilvusCollections.PREDICTED_CLASS).get(i)).isEqualTo(1);
        }
        // Each column holds the Java type the SDK expects for its field type.
        Map<String, MilvusField> fields =
                MilvusCollections.TILES.fields().stream()
                        .collect(Collectors.toMap(MilvusField::name, Function.identity()));
        for (InsertParam.Field column : columns) {
            Class<?> expected =
                    switch (fields.get(column.getName()).type()) {
                        case INT64 -> Long.class;
                        case INT32 -> Integer.class;
                        case FLOAT -> Float.class;
                        case DOUBLE -> Double.class;
                        case BOOL -> Boolean.class;
                        case VARCHAR -> String.class;
                        case FLOAT_VECTOR, FLOAT_ARRAY -> List.class;
                    };
            assertThat(column.getValues()).allSatisfy(v -> assertThat(v).isInstanceOf(expected));
        }
    }

    @Test
    void turnsSlideEntitiesIntoColumnsToo() {
        JsonObject entity =
                new SlideEntityConverter().toEntity(SinkTestData.slideResult("slide-b", 5, 8));

        List<InsertParam.Field> columns =
                MilvusColumnUpserter.columns(MilvusCollections.SLIDES, List.of(entity, entity));

        assertThat(columns)
                .extracting(InsertParam.Field::getName)
                .containsExactlyElementsOf(MilvusCollections.SLIDES.fieldNames());
        assertThat(columns).allSatisfy(c -> assertThat(c.getValues()).hasSize(2));
        assertThat(columns)
                .filteredOn(c -> c.getName().equals(MilvusCollections.COMPLETE))
                .singleElement()
                .satisfies(c -> assertThat(c.getValues()).isEqualTo(List.of(true, true)));
    }

    @Test
    void anEntityWithoutAFieldIsAnInvalidRequestNamingTheField() {
        JsonObject entity = new TileEntityConverter().toEntity(SinkTestData.tile("s1", 0, 1, 1, 4));
        entity.remove(MilvusCollections.SLIDE_ID);

        assertThatThrownBy(
                        () ->
                                MilvusColumnUpserter.columns(
                                        MilvusCollections.TILES, List.of(entity)))
                .isInstanceOfSatisfying(
                        MilvusClientException.class,
                        e -> assertThat(e.getErrorCode()).isEqualTo(ErrorCode.INVALID_PARAMS))
                .hasMessageContaining("'" + MilvusCollections.SLIDE_ID + "'")
                .hasMessageContaining("missing");
        // The writer treats it as a rejected request, not as Milvus being away.
        assertThat(
                        MilvusUpsertWriter.isTransient(
                                new MilvusClientException(ErrorCode.INVALID_PARAMS, "x")))
                .isFalse();
        assertThat(
                        MilvusUpsertWriter.isTransient(
                                new MilvusClientException(ErrorCode.RPC_ERROR, "x")))
                .isTrue();
    }

    @Test
    void aValueOfAnotherShapeIsAnInvalidRequest() {
        JsonObject entity = new TileEntityConverter().toEntity(SinkTestData.tile("s1", 0, 1, 1, 4));
        entity.addProperty(MilvusCollections.EMBEDDING, "not a vector");

        assertThatThrownBy(
                        () ->
                                MilvusColumnUpserter.columns(
                                        MilvusCollections.TILES, List.of(entity)))
                .isInstanceOf(MilvusClientException.class)
                .hasMessageContaining("'" + MilvusCollections.EMBEDDING + "'")
                .hasMessageContaining("does not fit");
    }

    private static List<Float> boxed(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return List.of(out);
    }
}
