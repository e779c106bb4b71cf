package io.slidestream.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.slidestream.source.SlideScannedSource.StartingOffsets;
import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/**
 * Configuration keys of the job's Kafka side: where the broker is, the three topics, the consumer
 * group and the exactly-once sinks. Any key under {@value #PROPERTIES_PREFIX} is handed to every
 * Kafka client as is ({@code kafka.properties.security.protocol: SASL_SSL}). Read and validated
 * once by {@link KafkaConfig}.
 */
public final class KafkaOptions {
    /** Prefix of pass-through Kafka client properties. */
    public static final String PROPERTIES_PREFIX = "kafka.properties.";

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            key("kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Kafka brokers as host:port[,host:port...]. Required, except for the"
                                    + " embedded demo, which starts its own broker.");

    public static final ConfigOption<String> TOPIC_SCANNED =
            key("kafka.topic.scanned")
                    .stringType()
                    .defaultValue("slides.scanned")
                    .withDescription("Topic of SlideScanned events (Avro binary or JSON).");

    public static final ConfigOption<String> TOPIC_RESULTS =
            key("kafka.topic.results")
                    .stringType()
                    .defaultValue("slides.results")
                    .withDescription("Topic of SlideResult records (Avro binary, key slide_id).");

    public static final ConfigOption<String> TOPIC_DEAD_LETTER =
            key("kafka.topic.dead-letter")
                    .stringType()
                    .defaultValue("slides.dead-letter")
                    .withDescription("Topic of SlideFailed records (Avro binary, key slide_id).");

    public static final ConfigOption<String> TOPIC_HEADS =
            key("kafka.topic.heads")
                    .stringType()
                    .defaultValue("slides.heads")
                    .withDescription(
                            "Topic of slide-head announcements (JSON, key head_id; `heads deploy` and"
                                    + " `heads retire` write it): the job broadcasts it to the slide"
                                    + " aggregate, so a new head predicts for every later slide"
                                    + " without a restart. One partition; compaction suits it.");

    public static final ConfigOption<String> GROUP_ID =
            key("kafka.group-id")
                    .stringType()
                    .defaultValue("slidestream")
                    .withDescription("Consumer group of the job's source.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS =
            key("kafka.starting-offsets")
                    .enumType(StartingOffsets.class)
                    .defaultValue(StartingOffsets.COMMITTED)
                    .withDescription(
                            "Where a fresh job starts reading: COMMITTED (the group's offsets,"
                                    + " earliest where there are none), EARLIEST or LATEST. A job"
                                    + " restored from a checkpoint or savepoint resumes from its"
                                    + " own offsets regardless.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            key("kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("slidestream")
                    .withDescription(
                            "Prefix of the exactly-once sinks' transactional ids; unique per job"
                                    + " on a Kafka cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            key("kafka.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "Kafka transaction timeout of the exactly-once sinks. Must exceed the"
                                    + " checkpoint interval and stay at or below the broker's"
                                    + " transaction.max.timeout.ms (15 min by default).");

    private KafkaOptions() {}
}
