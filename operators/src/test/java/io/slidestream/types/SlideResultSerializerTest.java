package io.slidestream.types;

import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's serializer contract for slide results, including a full-size mean embedding. */
class SlideResultSerializerTest extends SerializerTestBase<SlideResult> {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");

    @Override
    protected TypeSerializer<SlideResult> createSerializer() {
        return new AvroSerializer<>(SlideResult.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<SlideResult> getTypeClass() {
        return SlideResult.class;
    }

    @Override
    protected SlideResult[] getTestData() {
        List<Float> embedding = new ArrayList<>();
        for (int i = 0; i < 1024; i++) {
            embedding.add((float) Math.sin(i));
        }
        return new SlideResult[] {
            result("slide-001", true, embedding, 0), result("slide-002", false, List.of(), -1)
        };
    }

    static SlideResult result(String id, boolean complete, List<Float> embedding, int predicted) {
        return SlideResult.newBuilder()
                .setSlideId(id)
                .setUri("/data/" + id + ".svs")
                .setModelId("gpfm-tiny@0f3c")
                .setComplete(complete)
                .setTileCount(12)
                .setTilesReceived(complete ? 12 : 7)
                .setLevel(0)
                .setTilePx(256)
                .setMpp(0.5)
                .setScannedAt(SCANNED_AT)
                .setCompletedAt(SCANNED_AT.plusSeconds(30))
                .setLogits(predicted < 0 ? List.of() : List.of(1.5f, -0.5f))
                .setProbabilities(predicted < 0 ? List.of() : List.of(0.88f, 0.12f))
                .setPredictedClass(predicted)
                .setMeanEmbedding(embedding)
                .setTissueComposition(
                        List.of(
                                new ClassFraction("tumor", 0.5f),
                                new ClassFraction("stroma", 0.5f)))
                .setTopTiles(List.of(new AttentionTile(0L, 256L, 0.4f)))
                .build();
    }
}
