package io.slidestream.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.types.SlideStreamTypes;
import java.time.Instant;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

class DecodedEventRouterTest {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");

    @Test
    void sendsEventsOnAndMalformedRecordsToTheSideOutput() throws Exception {
        SlideScanned event = SlideScannedDeserializerTest.event();
        SlideFailed failed =
                new SlideFailed(
                        "kafka:slides.scanned:0:1",
                        "",
                        ErrorCode.MALFORMED_EVENT.name(),
                        "the value is empty",
                        "decode",
                        SCANNED_AT,
                        "");
        try (var harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(new DecodedEventRouter()),
                        SlideStreamTypes.DECODED_EVENT.createSerializer(
                                new SerializerConfigImpl()))) {
            harness.setup(
                    SlideStreamTypes.SLIDE_SCANNED.createSerializer(new SerializerConfigImpl()));
            harness.open();
            harness.processElement(new StreamRecord<>(Either.Right(event), 1L));
            harness.processElement(new StreamRecord<>(Either.Left(failed), 2L));

            assertThat(harness.extractOutputValues()).containsExactly(event);
            assertThat(harness.getSideOutput(DecodedEventRouter.MALFORMED))
                    .extracting(StreamRecord::getValue)
                    .containsExactly(failed);
        }
    }
}
