package io.slidestream.sink;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Builds the job's Kafka sinks: {@code slides.results} ({@link SlideResult}) and {@code
 * slides.dead-letter} ({@link SlideFailed}), both keyed by slide id, values in Avro binary (see
 * {@link AvroRecordSerializationSchema}).
 *
 * <p>Exactly once by default: each sink writes in Kafka transactions committed when a checkpoint
 * completes, so consumers with {@code isolation.level=read_committed} see each record once, even
 * after the job fails and replays. This needs checkpointing on (without it nothing is ever
 * committed) and a transaction timeout that is longer than the longest checkpoint plus restart time
 * but not above the broker's {@code transaction.max.timeout.ms} (15 minutes by default; Kafka
 * rejects the producer otherwise). Each sink gets its own transactional id prefix, {@code
 * <prefix>-results} and {@code <prefix>-dead-letter}; two jobs writing to one cluster need
 * different prefixes.
 *
 * <pre>{@code
 * KafkaSinks sinks = KafkaSinks.builder()
 *         .bootstrapServers("localhost:9092")
 *         .transactionalIdPrefix("slidestream")
 *         .build();
 * results.sinkTo(sinks.results("slides.results")).uid("results-kafka-sink");
 * }</pre>
 */
public final class KafkaSinks {
    /** Below Kafka's default transaction.max.timeout.ms (15 min) with room for restarts. */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);

    private final String bootstrapServers;
    private final String transactionalIdPrefix;
    private final Duration transactionTimeout;
    private final DeliveryGuarantee deliveryGuarantee;
    private final Properties properties;

    private KafkaSinks(Builder b) {
        this.bootstrapServers = b.bootstrapServers;
        this.transactionalIdPrefix = b.transactionalIdPrefix;
        this.transactionTimeout = b.transactionTimeout;
        this.deliveryGuarantee = b.deliveryGuarantee;
        this.properties = b.properties;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The sink of slide results, keyed by slide id. */
    public KafkaSink<SlideResult> results(String topic) {
        return sink(topic, "results", AvroCodec.SLIDE_RESULT, SlideResult::getSlideId);
    }

    /** The dead-letter sink, keyed by slide id (or the record id of an undecodable event). */
    public KafkaSink<SlideFailed> deadLetters(String topic) {
        return sink(topic, "dead-letter", AvroCodec.SLIDE_FAILED, SlideFailed::getSlideId);
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return deliveryGuarantee;
    }

    private <T extends SpecificRecord> KafkaSink<T> sink(
            String topic,
            String role,
            AvroCodec<T> codec,
            org.apache.flink.util.function.SerializableFunction<T, String> key) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("the " + role + " sink needs a topic name");
        }
        Properties producer = new Properties();
        producer.putAll(properties);
        producer.setProperty(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(transactionTimeout.toMillis()));
        var builder =
                KafkaSink.<T>builder()
                        .setBootstrapServers(bootstrapServers)
                        .setKafkaProducerConfig(producer)
                        .setDeliveryGuarantee(deliveryGuarantee)
                        .setRecordSerializer(
                                new AvroRecordSerializationSchema<>(topic, codec, key));
        if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(transactionalIdPrefix + "-" + role);
        }
        return builder.build();
    }

    /** Settings shared by both sinks; defaults in one place, checks in {@link #build()}. */
    public static final class Builder {
        private String bootstrapServers;
        private String transactionalIdPrefix = "slidestream";
        private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
        private DeliveryGuarantee deliveryGuarantee = DeliveryGuarantee.EXACTLY_ONCE;
        private final Properties properties = new Properties();

        private Builder() {}

        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        public Builder transactionalIdPrefix(String transactionalIdPrefix) {
            this.transactionalIdPrefix = transactionalIdPrefix;
            return this;
        }

        public Builder transactionTimeout(Duration transactionTimeout) {
            this.transactionTimeout = transactionTimeout;
            return this;
        }

        /** EXACTLY_ONCE by default; AT_LEAST_ONCE for clusters without transactions. */
        public Builder deliveryGuarantee(DeliveryGuarantee deliveryGuarantee) {
            this.deliveryGuarantee = Objects.requireNonNull(deliveryGuarantee, "deliveryGuarantee");
            return this;
        }

        /** Extra producer properties (security, compression), applied under the sink's own. */
        public Builder properties(Properties extra) {
            properties.putAll(extra);
            return this;
        }

        public KafkaSinks build() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException(
                        "KafkaSinks needs bootstrapServers (host:port[,host:port...])");
            }
            if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE
                    && (transactionalIdPrefix == null || transactionalIdPrefix.isBlank())) {
                throw new IllegalArgumentException(
                        "KafkaSinks with EXACTLY_ONCE needs a transactional id prefix unique to"
                                + " this job on the cluster");
            }
            if (transactionTimeout == null
                    || transactionTimeout.isNegative()
                    || transactionTimeout.isZero()) {
                throw new IllegalArgumentException(
                        "KafkaSinks transaction timeout must be positive, not "
                                + transactionTimeout);
            }
            return new KafkaSinks(this);
        }
    }
}
