package io.slidestream.source;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Builds the job's {@link KafkaSource} for {@code slides.scanned}: values through {@link
 * SlideScannedDeserializer}, so the source emits {@code Either<SlideFailed, SlideScanned>} and
 * never fails on a bad record (route it with {@link DecodedEventRouter}).
 *
 * <p>Offsets are committed back to Kafka on checkpoints (the source's default) for monitoring only;
 * exactly-once comes from the offsets in Flink's checkpoints.
 */
public final class SlideScannedSource {

    /** Where a consumer group without committed offsets starts. */
    public enum StartingOffsets {
        /** The group's committed offsets; the earliest offset where there are none. */
        COMMITTED,
        /** The beginning of every partition. */
        EARLIEST,
        /** Only records published after the job starts. */
        LATEST;

        // The connector's committedOffsets() takes Kafka's OffsetResetStrategy, deprecated in
        // kafka-clients 4 but the only form connector 5.0.0 offers.
        @SuppressWarnings("deprecation")
        OffsetsInitializer initializer() {
            switch (this) {
                case EARLIEST:
                    return OffsetsInitializer.earliest();
                case LATEST:
                    return OffsetsInitializer.latest();
                default:
                    return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            }
        }
    }

    private String bootstrapServers;
    private String topic = "slides.scanned";
    private String groupId = "slidestream";
    private StartingOffsets startingOffsets = StartingOffsets.COMMITTED;
    private boolean bounded;
    private final Properties properties = new Properties();
    private SlideScannedDeserializer deserializer = new SlideScannedDeserializer();

    private SlideScannedSource() {}

    public static SlideScannedSource builder() {
        return new SlideScannedSource();
    }

    public SlideScannedSource bootstrapServers(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        return this;
    }

    public SlideScannedSource topic(String topic) {
        this.topic = topic;
        return this;
    }

    public SlideScannedSource groupId(String groupId) {
        this.groupId = groupId;
        return this;
    }

    public SlideScannedSource startingOffsets(StartingOffsets startingOffsets) {
        this.startingOffsets = Objects.requireNonNull(startingOffsets, "startingOffsets");
        return this;
    }

    /** Stops at the offsets that are the latest when the job starts (tests, one-shot runs). */
    public SlideScannedSource bounded(boolean bounded) {
        this.bounded = bounded;
        return this;
    }

    /** Extra Kafka consumer properties (security, timeouts), applied last. */
    public SlideScannedSource properties(Properties extra) {
        properties.putAll(extra);
        return this;
    }

    public SlideScannedSource deserializer(SlideScannedDeserializer deserializer) {
        this.deserializer = Objects.requireNonNull(deserializer, "deserializer");
        return this;
    }

    public KafkaSource<Either<SlideFailed, SlideScanned>> build() {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException(
                    "SlideScannedSource needs bootstrapServers (host:port[,host:port...])");
        }
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("SlideScannedSource needs a topic");
        }
        if (groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException("SlideScannedSource needs a consumer group id");
        }
        var builder =
                KafkaSource.<Either<SlideFailed, SlideScanned>>builder()
                        .setBootstrapServers(bootstrapServers)
                        .setTopics(topic)
                        .setGroupId(groupId)
                        .setStartingOffsets(startingOffsets.initializer())
                        .setDeserializer(deserializer)
                        .setProperties(properties);
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }
}
