package io.slidestream.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.schemas.serde.ForgetRequests;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class SlideScannedDeserializerTest {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");
    static final Instant DECODED_AT = SCANNED_AT.plusSeconds(5);
    static final String TOPIC = "slides.scanned";

    final SlideScannedDeserializer deserializer =
            new SlideScannedDeserializer(Clock.fixed(DECODED_AT, ZoneOffset.UTC));

    static SlideScanned event() {
        return SlideScanned.newBuilder()
                .setSlideId("slide-001")
                .setUri("/data/inbox/slide-001.svs")
                .setScannedAt(SCANNED_AT)
                .setScannerId("watcher")
                .build();
    }

    List<Either<SlideFailed, SlideScanned>> decode(byte[] value, long offset) {
        return decode(null, value, offset);
    }

    List<Either<SlideFailed, SlideScanned>> decode(byte[] key, byte[] value, long offset) {
        List<Either<SlideFailed, SlideScanned>> out = new ArrayList<>();
        deserializer.deserialize(
                new ConsumerRecord<>(TOPIC, 3, offset, key, value),
                new Collector<>() {
                    @Override
                    public void collect(Either<SlideFailed, SlideScanned> record) {
                        out.add(record);
                    }

                    @Override
                    public void close() {}
                });
        return out;
    }

    SlideFailed onlyFailure(byte[] value, long offset) {
        List<Either<SlideFailed, SlideScanned>> out = decode(value, offset);
        assertThat(out).hasSize(1);
        assertThat(out.get(0).isLeft()).as("decoded as a failure").isTrue();
        return out.get(0).left();
    }

    @Test
    void decodesAnAvroBinaryEvent() {
        List<Either<SlideFailed, SlideScanned>> out =
                decode(AvroCodec.SLIDE_SCANNED.encode(event()), 0);
        assertThat(out).containsExactly(Either.Right(event()));
    }

    @Test
    void decodesAJsonEventTypedByAPerson() {
        byte[] json =
                ("{\"slide_id\": \"slide-001\", \"uri\": \"/data/inbox/slide-001.svs\","
                                + " \"scanned_at\": \"2026-11-22T10:00:00Z\", \"scanner_id\": \"watcher\"}\n")
                        .getBytes(StandardCharsets.UTF_8);
        assertThat(decode(json, 0)).containsExactly(Either.Right(event()));
    }

    @Test
    void turnsGarbageIntoAMalformedEventWithTheOffsetDerivedId() {
        SlideFailed failed =
                onlyFailure(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, 42);
        assertThat(failed.getSlideId()).isEqualTo("kafka:slides.scanned:3:42");
        assertThat(failed.getCode()).isEqualTo(ErrorCode.MALFORMED_EVENT.name());
        assertThat(failed.getStage()).isEqualTo("decode");
        assertThat(failed.getUri()).isEmpty();
        assertThat(failed.getFailedAt()).isEqualTo(DECODED_AT);
        assertThat(failed.getMessage())
                .startsWith(
                        "Record at slides.scanned partition 3 offset 42 is not a valid SlideScanned")
                .contains("4 bytes");
    }

    @Test
    void turnsAnEmptyValueOrATombstoneWithoutAKeyIntoAMalformedEvent() {
        assertThat(onlyFailure(new byte[0], 7).getMessage()).contains("the value is empty");
        assertThat(onlyFailure(null, 8).getMessage())
                .contains("tombstone")
                .contains("so is the key");
    }

    @Test
    void turnsATombstoneKeyedByASlideIdIntoARequestToForgetIt() {
        List<Either<SlideFailed, SlideScanned>> out =
                decode("slide-001".getBytes(StandardCharsets.UTF_8), null, 11);
        assertThat(out).containsExactly(Either.Right(ForgetRequests.of("slide-001")));
        assertThat(ForgetRequests.is(out.get(0).right())).isTrue();
        assertThat(ForgetRequests.is(event())).as("an announcement").isFalse();
    }

    @Test
    void turnsATombstoneKeyedByNoSlideIdIntoAMalformedEvent() {
        List<Either<SlideFailed, SlideScanned>> out =
                decode(" padded\n".getBytes(StandardCharsets.UTF_8), null, 12);
        assertThat(out).singleElement().satisfies(e -> assertThat(e.isLeft()).isTrue());
        assertThat(out.get(0).left().getMessage())
                .contains("its key is not a slide id")
                .contains("whitespace or control characters");
        assertThat(out.get(0).left().getSlideId()).isEqualTo("kafka:slides.scanned:3:12");
    }

    @Test
    void turnsJsonWithAMissingFieldIntoAMalformedEvent() {
        byte[] json =
                "{\"slide_id\":\"s9\",\"scanned_at\":0,\"scanner_id\":\"x\"}"
                        .getBytes(StandardCharsets.UTF_8);
        assertThat(onlyFailure(json, 9).getMessage()).contains("required field 'uri' is missing");
    }

    @Test
    void turnsAnEventWithAnInvalidUriIntoAMalformedEventThatKeepsTheUri() {
        SlideScanned bad = event();
        bad.setUri("relative/slide.svs");
        SlideFailed failed = onlyFailure(AvroCodec.SLIDE_SCANNED.encode(bad), 10);
        assertThat(failed.getUri()).isEqualTo("relative/slide.svs");
        assertThat(failed.getMessage()).contains("relative path");
        assertThat(failed.getSlideId()).isEqualTo("kafka:slides.scanned:3:10");
    }

    @Test
    void producesTheDecodedEventEnvelopeType() {
        assertThat(deserializer.getProducedType().toString()).contains("Either");
    }
}
