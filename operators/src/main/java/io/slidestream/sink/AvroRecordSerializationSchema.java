package io.slidestream.sink;

import io.slidestream.schemas.serde.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes an Avro event to one Kafka topic: key = the UTF-8 slide id (so every record of a slide
 * lands in one partition, in order, and compaction keeps the latest), value = Avro binary with the
 * event's schema ({@link AvroCodec}), and a {@value #CONTENT_TYPE_HEADER} header naming the schema
 * so a human with {@code kafka-console-consumer --property print.headers=true} knows what the bytes
 * are. The record timestamp is the producer's clock: element timestamps are not event times here (a
 * slide window's results carry {@code Long.MAX_VALUE}, the global window's end, which the broker
 * rejects).
 */
public final class AvroRecordSerializationSchema<T extends SpecificRecord>
        implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    public static final String CONTENT_TYPE_HEADER = "content-type";

    private final String topic;
    private final AvroCodec<T> codec;
    private final SerializableFunction<T, String> key;
    private final byte[] contentType;

    public AvroRecordSerializationSchema(
            String topic, AvroCodec<T> codec, SerializableFunction<T, String> key) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.codec = Objects.requireNonNull(codec, "codec");
        this.key = Objects.requireNonNull(key, "key");
        this.contentType =
                ("application/avro; record=" + codec.schema().getFullName())
                        .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T element, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(CONTENT_TYPE_HEADER, contentType);
        return new ProducerRecord<>(
                topic,
                null,
                null,
                key.apply(element).getBytes(StandardCharsets.UTF_8),
                codec.encode(element),
                headers);
    }

    public String topic() {
        return topic;
    }
}
