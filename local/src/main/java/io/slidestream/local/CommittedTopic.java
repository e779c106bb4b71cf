package io.slidestream.local;

import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.schemas.serde.MalformedEventException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What is committed on one of SlideStream's output topics, read as an independent client does
 * ({@code read_committed}, from the beginning, no consumer group): each {@link #poll} reads on from
 * where the last stopped and returns everything read so far. Records are checked to be keyed by
 * their slide id.
 */
public final class CommittedTopic<T extends SpecificRecord> implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroCodec<T> codec;
    private final List<T> records = new ArrayList<>();

    public CommittedTopic(String bootstrapServers, String topic, AvroCodec<T> codec) {
        this.codec = codec;
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic)
                .forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Reads what arrived since the last call; returns everything read so far. */
    public List<T> poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            T value;
            try {
                value = codec.decode(r.value());
            } catch (MalformedEventException e) {
                throw new IllegalStateException("undecodable record on " + r.topic(), e);
            }
            // Key = slide id, so a slide's records stay in one partition and in order.
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (!key.equals(value.get(0).toString())) {
                throw new IllegalStateException(
                        "record of slide " + value.get(0) + " on " + r.topic() + " keyed " + key);
            }
            records.add(value);
        }
        return List.copyOf(records);
    }

    /**
     * Skips what is committed so far: later calls read only what is committed after this one.
     * Returns this.
     */
    public CommittedTopic<T> fromNow() {
        consumer.seekToEnd(consumer.assignment());
        consumer.assignment().forEach(consumer::position);
        return this;
    }

    /**
     * Reads until everything committed now has been read (or {@code timeout} passed); returns
     * everything read so far.
     */
    public List<T> pollToEnd(Duration timeout) {
        var end = consumer.endOffsets(consumer.assignment());
        long deadline = System.nanoTime() + timeout.toNanos();
        List<T> all = poll();
        while (System.nanoTime() < deadline
                && end.entrySet().stream()
                        .anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            all = poll();
        }
        return all;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
