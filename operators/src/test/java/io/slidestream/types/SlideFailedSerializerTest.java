package io.slidestream.types;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import java.time.Instant;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's serializer contract for dead letters. */
class SlideFailedSerializerTest extends SerializerTestBase<SlideFailed> {
    static final Instant FAILED_AT = Instant.parse("2026-11-22T10:01:00Z");

    @Override
    protected TypeSerializer<SlideFailed> createSerializer() {
        return new AvroSerializer<>(SlideFailed.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<SlideFailed> getTypeClass() {
        return SlideFailed.class;
    }

    @Override
    protected SlideFailed[] getTestData() {
        return new SlideFailed[] {
            new SlideFailed(
                    "kafka:slides.scanned:0:42",
                    "",
                    ErrorCode.MALFORMED_EVENT.name(),
                    "the value is empty",
                    "decode",
                    FAILED_AT),
            new SlideFailed(
                    "slide-002",
                    "/data/slide-002.svs",
                    ErrorCode.CORRUPT_SLIDE.name(),
                    "bad JPEG in tile (256, 512)",
                    "read",
                    FAILED_AT.plusMillis(1))
        };
    }
}
