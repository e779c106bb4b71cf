package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MilvusPendingWritesTest {

    @Test
    void unsentWritesSurviveTheCheckpointSerializerInOrder() throws Exception {
        TileEntityConverter converter = new TileEntityConverter();
        Map<Long, JsonObject> upserts = new LinkedHashMap<>();
        for (TileEmbedding tile : SinkTestData.tiles("s1", 3, 3, 1024)) {
            upserts.put(converter.key(tile), converter.toEntity(tile));
        }
        MilvusPendingWrites pending = new MilvusPendingWrites(upserts, List.of(7L, -3L));
        MilvusPendingWrites.Serializer serializer = new MilvusPendingWrites.Serializer();

        MilvusPendingWrites back =
                serializer.deserialize(serializer.getVersion(), serializer.serialize(pending));

        assertThat(back.upserts().keySet()).containsExactlyElementsOf(upserts.keySet());
        // As Milvus receives them: the same JSON text (floats print the same after the trip).
        assertThat(back.upserts().values())
                .extracting(JsonObject::toString)
                .containsExactlyElementsOf(
                        upserts.values().stream().map(JsonObject::toString).toList());
        assertThat(back.deletes()).containsExactly(7L, -3L);
    }
}
