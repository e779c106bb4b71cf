package io.slidestream.config;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.KafkaSinks;
import io.slidestream.source.SlideScannedSource;
import io.slidestream.source.SlideScannedSource.StartingOffsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * The job's Kafka settings, read once from a {@link Configuration} ({@link KafkaOptions}) and
 * validated at start: every problem names the key and the bad value. Immutable; hands operators
 * plain values through {@link #sourceBuilder()} and {@link #sinks()}.
 */
public final class KafkaConfig {
    /** Kafka's own rule for topic names. */
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private static final Pattern HOST_PORT = Pattern.compile("\\[?[A-Za-z0-9._:-]+]?:\\d{1,5}");

    private final String bootstrapServers;
    private final String scannedTopic;
    private final String resultsTopic;
    private final String deadLetterTopic;
    private final String groupId;
    private final StartingOffsets startingOffsets;
    private final String transactionalIdPrefix;
    private final Duration transactionTimeout;
    private final Map<String, String> clientProperties;

    private KafkaConfig(Configuration c) {
        bootstrapServers = bootstrapServers(c);
        scannedTopic = topic(c, KafkaOptions.TOPIC_SCANNED);
        resultsTopic = topic(c, KafkaOptions.TOPIC_RESULTS);
        deadLetterTopic = topic(c, KafkaOptions.TOPIC_DEAD_LETTER);
        groupId = notBlank(c, KafkaOptions.GROUP_ID);
        startingOffsets = read(c, KafkaOptions.STARTING_OFFSETS);
        transactionalIdPrefix = notBlank(c, KafkaOptions.TRANSACTIONAL_ID_PREFIX);
        transactionTimeout = read(c, KafkaOptions.TRANSACTION_TIMEOUT);
        if (transactionTimeout.isNegative() || transactionTimeout.isZero()) {
            throw InvalidConfig.of(
                    KafkaOptions.TRANSACTION_TIMEOUT, transactionTimeout, "must be positive");
        }
        clientProperties = clientProperties(c);
        String scanned = scannedTopic;
        if (scanned.equals(resultsTopic) || scanned.equals(deadLetterTopic)) {
            throw InvalidConfig.of(
                    KafkaOptions.TOPIC_SCANNED,
                    scanned,
                    "is also an output topic; the job would read its own output");
        }
    }

    /** Reads and validates; a {@link SlideStreamException} (INVALID_CONFIG) names the bad key. */
    public static KafkaConfig from(Configuration config) {
        return new KafkaConfig(config);
    }

    /** The source of {@code slides.scanned}, ready to build (tests may still make it bounded). */
    public SlideScannedSource sourceBuilder() {
        return SlideScannedSource.builder()
                .bootstrapServers(bootstrapServers)
                .topic(scannedTopic)
                .groupId(groupId)
                .startingOffsets(startingOffsets)
                .properties(clientPropertiesAsProperties());
    }

    /** The exactly-once results and dead-letter sinks. */
    public KafkaSinks sinks() {
        return KafkaSinks.builder()
                .bootstrapServers(bootstrapServers)
                .transactionalIdPrefix(transactionalIdPrefix)
                .transactionTimeout(transactionTimeout)
                .properties(clientPropertiesAsProperties())
                .build();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String scannedTopic() {
        return scannedTopic;
    }

    public String resultsTopic() {
        return resultsTopic;
    }

    public String deadLetterTopic() {
        return deadLetterTopic;
    }

    public String groupId() {
        return groupId;
    }

    public StartingOffsets startingOffsets() {
        return startingOffsets;
    }

    public String transactionalIdPrefix() {
        return transactionalIdPrefix;
    }

    public Duration transactionTimeout() {
        return transactionTimeout;
    }

    /** The {@code kafka.properties.*} entries with the prefix removed, sorted. */
    public Map<String, String> clientProperties() {
        return clientProperties;
    }

    public Properties clientPropertiesAsProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        return p;
    }

    private static String bootstrapServers(Configuration c) {
        String value =
                c.getOptional(KafkaOptions.BOOTSTRAP_SERVERS)
                        .orElseThrow(
                                () ->
                                        InvalidConfig.missing(
                                                KafkaOptions.BOOTSTRAP_SERVERS.key(),
                                                "give the Kafka brokers as"
                                                        + " host:port[,host:port...]"));
        for (String server : value.split(",", -1)) {
            String s = server.strip();
            if (!HOST_PORT.matcher(s).matches() || port(s) < 1 || port(s) > 65535) {
                throw InvalidConfig.of(
                        KafkaOptions.BOOTSTRAP_SERVERS,
                        value,
                        "'" + s + "' is not host:port (e.g. localhost:9092)");
            }
        }
        return value.strip();
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    private static String topic(Configuration c, ConfigOption<String> option) {
        String value = notBlank(c, option);
        if (!TOPIC.matcher(value).matches()) {
            throw InvalidConfig.of(
                    option,
                    value,
                    "is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
        }
        return value;
    }

    private static String notBlank(Configuration c, ConfigOption<String> option) {
        String value = read(c, option);
        if (value == null || value.isBlank()) {
            throw InvalidConfig.of(option, value, "must not be blank");
        }
        return value.strip();
    }

    /** Reads a typed option, turning Flink's parse error into one that names key and value. */
    private static <T> T read(Configuration c, ConfigOption<T> option) {
        try {
            return c.get(option);
        } catch (IllegalArgumentException e) {
            String raw = c.toMap().get(option.key());
            throw InvalidConfig.of(option, raw, "cannot be read: " + e.getMessage());
        }
    }

    private static Map<String, String> clientProperties(Configuration c) {
        Map<String, String> props = new TreeMap<>();
        for (Map.Entry<String, String> e : c.toMap().entrySet()) {
            if (e.getKey().startsWith(KafkaOptions.PROPERTIES_PREFIX)) {
                String name = e.getKey().substring(KafkaOptions.PROPERTIES_PREFIX.length());
                if (name.isEmpty()) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_CONFIG,
                            "configuration key '"
                                    + e.getKey()
                                    + "' names no Kafka property; use"
                                    + " kafka.properties.<client property>");
                }
                if (name.equals("transactional.id") || name.equals("group.id")) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_CONFIG,
                            "configuration key '"
                                    + e.getKey()
                                    + "' would override what the job sets itself; use "
                                    + (name.equals("group.id")
                                            ? KafkaOptions.GROUP_ID.key()
                                            : KafkaOptions.TRANSACTIONAL_ID_PREFIX.key()));
                }
                props.put(name, e.getValue());
            }
        }
        return Collections.unmodifiableMap(props);
    }

    @Override
    public String toString() {
        return "KafkaConfig{bootstrapServers="
                + bootstrapServers
                + ", topics="
                + scannedTopic
                + "/"
                + resultsTopic
                + "/"
                + deadLetterTopic
                + ", groupId="
                + groupId
                + ", startingOffsets="
                + startingOffsets
                + ", transactionalIdPrefix="
                + transactionalIdPrefix
                + ", transactionTimeout="
                + transactionTimeout
                + ", clientProperties="
                + clientProperties.keySet()
                + "}";
    }
}
