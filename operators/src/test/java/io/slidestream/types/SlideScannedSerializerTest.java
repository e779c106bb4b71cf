package io.slidestream.types;

import io.slidestream.schemas.avro.SlideScanned;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's serializer contract (copy, duplicate, snapshot/restore, stream copies) for events. */
class SlideScannedSerializerTest extends SerializerTestBase<SlideScanned> {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");

    @Override
    protected TypeSerializer<SlideScanned> createSerializer() {
        return new AvroSerializer<>(SlideScanned.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<SlideScanned> getTypeClass() {
        return SlideScanned.class;
    }

    @Override
    protected SlideScanned[] getTestData() {
        return new SlideScanned[] {
            SlideScanned.newBuilder()
                    .setSlideId("slide-001")
                    .setUri("/data/slide-001.svs")
                    .setScannedAt(SCANNED_AT)
                    .setScannerId("aperio-1")
                    .build(),
            SlideScanned.newBuilder()
                    .setSlideId("slide-002")
                    .setUri("file:///data/slide-002.ndpi")
                    .setScannedAt(SCANNED_AT.plusSeconds(60))
                    .setScannerId("hamamatsu-1")
                    .setCaseId("case-7")
                    .setStain("H&E")
                    .setOrgan("colon")
                    .setAttributes(Map.of("magnification", "40x", "operator", "jd"))
                    .build()
        };
    }
}
