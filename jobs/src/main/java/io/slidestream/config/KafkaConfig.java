package io.slidestream.config;

import static io.slidestream.settings.ConfigBuilder.read;

import io.slidestream.errors.InvalidConfig;
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
 * The job's Kafka settings, validated at start: each component is the {@link KafkaOptions} key of
 * the same name ({@code clientProperties} holds the {@code kafka.properties.*} entries without the
 * prefix). Every problem fails with {@code INVALID_CONFIG} naming the key and the bad value.
 * Operators get plain values through {@link #sourceBuilder()} and {@link #sinks()}.
 */
public record KafkaConfig(
        String bootstrapServers,
        String scannedTopic,
        String resultsTopic,
        String deadLetterTopic,
        String headsTopic,
        String groupId,
        StartingOffsets startingOffsets,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        Map<String, String> clientProperties) {

    /** Kafka's own rule for topic names. */
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private static final Pattern HOST_PORT = Pattern.compile("\\[?[A-Za-z0-9._:-]+]?:\\d{1,5}");

    public KafkaConfig {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw InvalidConfig.missing(
                    KafkaOptions.BOOTSTRAP_SERVERS.key(),
                    "give the Kafka brokers as host:port[,host:port...]");
        }
        for (String server : bootstrapServers.split(",", -1)) {
            String s = server.strip();
            if (!HOST_PORT.matcher(s).matches() || port(s) < 1 || port(s) > 65535) {
                throw InvalidConfig.of(
                        KafkaOptions.BOOTSTRAP_SERVERS,
                        bootstrapServers,
                        "'" + s + "' is not host:port (e.g. localhost:9092)");
            }
        }
        bootstrapServers = bootstrapServers.strip();
        scannedTopic = topic(KafkaOptions.TOPIC_SCANNED, scannedTopic);
        resultsTopic = topic(KafkaOptions.TOPIC_RESULTS, resultsTopic);
        deadLetterTopic = topic(KafkaOptions.TOPIC_DEAD_LETTER, deadLetterTopic);
        headsTopic = topic(KafkaOptions.TOPIC_HEADS, headsTopic);
        if (scannedTopic.equals(resultsTopic) || scannedTopic.equals(deadLetterTopic)) {
            throw InvalidConfig.of(
                    KafkaOptions.TOPIC_SCANNED,
                    scannedTopic,
                    "is also an output topic; the job would read its own output");
        }
        groupId = notBlank(KafkaOptions.GROUP_ID, groupId);
        transactionalIdPrefix =
                notBlank(KafkaOptions.TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
        if (transactionTimeout.isNegative() || transactionTimeout.isZero()) {
            throw InvalidConfig.of(
                    KafkaOptions.TRANSACTION_TIMEOUT, transactionTimeout, "must be positive");
        }
        clientProperties = Collections.unmodifiableMap(new TreeMap<>(clientProperties));
    }

    /** Reads the {@code kafka.*} keys; unset keys take their defaults. */
    public static KafkaConfig from(Configuration conf) {
        return new KafkaConfig(
                conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).orElse(null),
                read(conf, KafkaOptions.TOPIC_SCANNED),
                read(conf, KafkaOptions.TOPIC_RESULTS),
                read(conf, KafkaOptions.TOPIC_DEAD_LETTER),
                read(conf, KafkaOptions.TOPIC_HEADS),
                read(conf, KafkaOptions.GROUP_ID),
                read(conf, KafkaOptions.STARTING_OFFSETS),
                read(conf, KafkaOptions.TRANSACTIONAL_ID_PREFIX),
                read(conf, KafkaOptions.TRANSACTION_TIMEOUT),
                clientProperties(conf));
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

    public Properties clientPropertiesAsProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        return p;
    }

    @Override
    public String toString() {
        // Client properties may hold SASL passwords: print their names only.
        return "KafkaConfig{bootstrapServers="
                + bootstrapServers
                + ", topics="
                + scannedTopic
                + "/"
                + resultsTopic
                + "/"
                + deadLetterTopic
                + "/"
                + headsTopic
                + ", groupId="
                + groupId
                + ", clientProperties="
                + clientProperties.keySet()
                + "}";
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    private static String topic(ConfigOption<String> option, String value) {
        String topic = notBlank(option, value);
        if (!TOPIC.matcher(topic).matches()) {
            throw InvalidConfig.of(
                    option,
                    topic,
                    "is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
        }
        return topic;
    }

    private static String notBlank(ConfigOption<String> option, String value) {
        if (value == null || value.isBlank()) {
            throw InvalidConfig.of(option, value, "must not be blank");
        }
        return value.strip();
    }

    private static Map<String, String> clientProperties(Configuration c) {
        Map<String, String> props = new TreeMap<>();
        c.toMap()
                .forEach(
                        (key, value) -> {
                            if (!key.startsWith(KafkaOptions.PROPERTIES_PREFIX)) {
                                return;
                            }
                            String name = key.substring(KafkaOptions.PROPERTIES_PREFIX.length());
                            if (name.isEmpty()) {
                                throw InvalidConfig.because(
                                        "configuration key '"
                                                + key
                                                + "' names no Kafka property; use"
                                                + " kafka.properties.<client property>");
                            }
                            if (name.equals("transactional.id") || name.equals("group.id")) {
                                throw InvalidConfig.because(
                                        "configuration key '"
                                                + key
                                                + "' would override what the job sets itself;"
                                                + " use "
                                                + (name.equals("group.id")
                                                        ? KafkaOptions.GROUP_ID.key()
                                                        : KafkaOptions.TRANSACTIONAL_ID_PREFIX
                                                                .key()));
                            }
                            props.put(name, value);
                        });
        return props;
    }
}
