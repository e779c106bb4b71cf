package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.serde.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class KafkaSinksTest {
    static final Instant FAILED_AT = Instant.parse("2026-11-22T10:01:00Z");

    @Test
    void keysRecordsBySlideIdAndWritesAvroBinaryWithAContentType() throws Exception {
        SlideFailed failed =
                new SlideFailed(
                        "slide-9",
                        "/a.svs",
                        ErrorCode.NO_TISSUE.name(),
                        "no tissue",
                        "plan",
                        FAILED_AT,
                        "");
        AvroRecordSerializationSchema<SlideFailed> schema =
                new AvroRecordSerializationSchema<>(
                        "slides.dead-letter", AvroCodec.SLIDE_FAILED, SlideFailed::getSlideId);

        // A global window's result carries Long.MAX_VALUE, which the broker would reject.
        ProducerRecord<byte[], byte[]> record = schema.serialize(failed, null, Long.MAX_VALUE);

        assertThat(record.topic()).isEqualTo("slides.dead-letter");
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("slide-9");
        assertThat(AvroCodec.SLIDE_FAILED.decode(record.value())).isEqualTo(failed);
        assertThat(record.timestamp()).as("left to the producer's clock").isNull();
        assertThat(
                        new String(
                                record.headers().lastHeader("content-type").value(),
                                StandardCharsets.UTF_8))
                .isEqualTo("application/avro; record=io.slidestream.schemas.avro.SlideFailed");
    }

    @Test
    void buildsExactlyOnceSinksByDefault() {
        KafkaSinks sinks = KafkaSinks.builder().bootstrapServers("127.0.0.1:9092").build();
        assertThat(sinks.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(sinks.results("slides.results")).isNotNull();
        assertThat(sinks.deadLetters("slides.dead-letter")).isNotNull();
    }

    @Test
    void refusesMissingServersPrefixOrTimeout() {
        assertThatThrownBy(() -> KafkaSinks.builder().build())
                .hasMessageContaining("bootstrapServers");
        assertThatThrownBy(
                        () ->
                                KafkaSinks.builder()
                                        .bootstrapServers("h:1")
                                        .transactionalIdPrefix(" ")
                                        .build())
                .hasMessageContaining("transactional id prefix");
        assertThatThrownBy(
                        () ->
                                KafkaSinks.builder()
                                        .bootstrapServers("h:1")
                                        .transactionTimeout(Duration.ZERO)
                                        .build())
                .hasMessageContaining("must be positive");
        assertThatThrownBy(() -> KafkaSinks.builder().bootstrapServers("h:1").build().results(""))
                .hasMessageContaining("results sink needs a topic");
    }
}
