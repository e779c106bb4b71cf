package io.slidestream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.source.SlideScannedSource.StartingOffsets;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class KafkaConfigTest {

    static Configuration config(Map<String, String> entries) {
        return Configuration.fromMap(entries);
    }

    @Test
    void readsDefaultsAndPassThroughProperties() {
        KafkaConfig c =
                KafkaConfig.from(
                        config(
                                Map.of(
                                        "kafka.bootstrap-servers", "broker-1:9092, broker-2:9093",
                                        "kafka.properties.security.protocol", "SASL_SSL")));
        assertThat(c.bootstrapServers()).isEqualTo("broker-1:9092, broker-2:9093");
        assertThat(c.scannedTopic()).isEqualTo("slides.scanned");
        assertThat(c.resultsTopic()).isEqualTo("slides.results");
        assertThat(c.deadLetterTopic()).isEqualTo("slides.dead-letter");
        assertThat(c.groupId()).isEqualTo("slidestream");
        assertThat(c.startingOffsets()).isEqualTo(StartingOffsets.COMMITTED);
        assertThat(c.transactionTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.clientProperties())
                .containsExactly(Map.entry("security.protocol", "SASL_SSL"));
        assertThat(c.sinks()).isNotNull();
        assertThat(c.sourceBuilder().build()).isNotNull();
    }

    @Test
    void readsEveryKey() {
        KafkaConfig c =
                KafkaConfig.from(
                        config(
                                Map.of(
                                        "kafka.bootstrap-servers", "127.0.0.1:1",
                                        "kafka.topic.scanned", "in",
                                        "kafka.topic.results", "out",
                                        "kafka.topic.dead-letter", "dlq",
                                        "kafka.group-id", "g",
                                        "kafka.starting-offsets", "LATEST",
                                        "kafka.transactional-id-prefix", "job-7",
                                        "kafka.transaction-timeout", "2 min")));
        assertThat(c.scannedTopic()).isEqualTo("in");
        assertThat(c.resultsTopic()).isEqualTo("out");
        assertThat(c.deadLetterTopic()).isEqualTo("dlq");
        assertThat(c.groupId()).isEqualTo("g");
        assertThat(c.startingOffsets()).isEqualTo(StartingOffsets.LATEST);
        assertThat(c.transactionalIdPrefix()).isEqualTo("job-7");
        assertThat(c.transactionTimeout()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void namesTheMissingBootstrapServersKey() {
        assertThatThrownBy(() -> KafkaConfig.from(new Configuration()))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("kafka.bootstrap-servers is not set")
                .extracting(e -> ((SlideStreamException) e).code())
                .isEqualTo(ErrorCode.INVALID_CONFIG);
    }

    @Test
    void namesKeyAndValueOfEveryBadSetting() {
        assertBad(
                Map.of("kafka.bootstrap-servers", "localhost"),
                "kafka.bootstrap-servers = 'localhost' 'localhost' is not host:port");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.topic.results", "bad topic"),
                "kafka.topic.results = 'bad topic' is not a valid Kafka topic name");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.starting-offsets", "yesterday"),
                "kafka.starting-offsets = 'yesterday' cannot be read");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.transaction-timeout", "0 s"),
                "kafka.transaction-timeout = 'PT0S' must be positive");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.topic.results", "slides.scanned"),
                "kafka.topic.scanned = 'slides.scanned' is also an output topic");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.group-id", " "),
                "kafka.group-id = ' ' must not be blank");
        assertBad(
                Map.of("kafka.bootstrap-servers", "h:1", "kafka.properties.group.id", "x"),
                "use kafka.group-id");
    }

    private static void assertBad(Map<String, String> entries, String message) {
        assertThatThrownBy(() -> KafkaConfig.from(config(entries)))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining(message);
    }
}
