package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.EmbeddedKafkaBroker;
import io.slidestream.testing.TestSlides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka as a hospital runs it: the embedded broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS
 * with a key the test makes) and SlideStream's clients configured through the pass-through {@code
 * kafka.properties.*} keys. {@code publish} announces a slide through it (read back over SASL_SSL);
 * {@code run --check-only} with a wrong password, or with a truststore that does not trust the
 * broker, stops before anything starts, names Kafka and the key to fix, and never prints the
 * password.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaCredentialsITCase {
    private static final String USER = "slidestream";
    private static final String PASSWORD = "scram-secret-7Qx";
    private static final String STORE_PASSWORD = "store-secret";

    @TempDir static Path dir;

    private EmbeddedKafkaBroker broker;
    private Path truststore;
    private Path strangerTruststore;

    @BeforeAll
    void start() throws Exception {
        Path keystore = dir.resolve("broker.p12");
        TestKeys.keystore(keystore, STORE_PASSWORD, "127.0.0.1");
        truststore = TestKeys.truststoreFile(keystore, STORE_PASSWORD, dir.resolve("trust.p12"));
        Path stranger = dir.resolve("stranger.p12");
        TestKeys.keystore(stranger, STORE_PASSWORD, "127.0.0.1");
        strangerTruststore =
                TestKeys.truststoreFile(
                        stranger, STORE_PASSWORD, dir.resolve("stranger-trust.p12"));
        broker =
                EmbeddedKafkaBroker.builder()
                        .saslSsl(USER, PASSWORD, keystore, STORE_PASSWORD)
                        .start();
        broker.createTopics(1, "secure.scanned");
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void publishGoesThroughSaslSslWithThePassThroughKeys() throws Exception {
        Path config = config("good.yaml", PASSWORD, truststore);
        CommandRun run =
                CommandRun.of(
                        List.of(),
                        "publish",
                        "--config",
                        config.toString(),
                        "--slide-id",
                        "secure-1",
                        TestSlides.slideFixture("small.svs").toString());
        assertThat(run.code()).as(run.output()).isZero();

        Properties p = clientProperties(PASSWORD, truststore);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.secureBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("secure.scanned"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    values.add(new String(r.key()));
                }
            }
        }
        assertThat(values).containsExactly("secure-1");
    }

    @Test
    void aWrongPasswordStopsTheCheckNamingKafkaAndTheKey() throws Exception {
        CommandRun run = checkOnly(config("wrong.yaml", "not-the-password", truststore));
        assertThat(run.code()).as(run.output()).isNotZero();
        assertThat(run.err())
                .contains("Kafka at " + broker.secureBootstrapServers())
                .contains("refused SlideStream's credentials")
                .contains("kafka.properties.sasl.jaas.config")
                .doesNotContain("not-the-password");
    }

    @Test
    void anUntrustedBrokerStopsTheCheckNamingTheTruststore() throws Exception {
        CommandRun run = checkOnly(config("stranger.yaml", PASSWORD, strangerTruststore));
        assertThat(run.code()).as(run.output()).isNotZero();
        assertThat(run.err())
                .contains("refused SlideStream's credentials")
                .contains("kafka.properties.ssl.truststore.location")
                .doesNotContain(PASSWORD);
    }

    private CommandRun checkOnly(Path config) throws Exception {
        Path iceberg = Files.createDirectories(dir.resolve("iceberg"));
        return CommandRun.of(
                List.of(
                        "-D",
                        "inference.model-path=" + TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx"),
                        "-D",
                        "milvus.uri=http://127.0.0.1:1",
                        "-D",
                        "iceberg.uri=jdbc:sqlite:" + iceberg.resolve("catalog.db"),
                        "-D",
                        "iceberg.warehouse=" + iceberg.resolve("warehouse").toUri()),
                "run",
                "--check-only",
                "--config",
                config.toString());
    }

    private Path config(String name, String password, Path trust) throws Exception {
        StringBuilder yaml = new StringBuilder();
        yaml.append("kafka.bootstrap-servers: ")
                .append(broker.secureBootstrapServers())
                .append('\n');
        yaml.append("kafka.topic.scanned: secure.scanned\n");
        clientProperties(password, trust)
                .forEach(
                        (k, v) ->
                                yaml.append("kafka.properties.")
                                        .append(k)
                                        .append(": '")
                                        .append(v.toString().replace("'", "''"))
                                        .append("'\n"));
        Path file = dir.resolve(name);
        Files.writeString(file, yaml);
        return file;
    }

    private static Properties clientProperties(String password, Path trust) {
        Properties p = new Properties();
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + USER
                        + "\" password=\""
                        + password
                        + "\";");
        p.put("ssl.truststore.location", trust.toString());
        p.put("ssl.truststore.password", STORE_PASSWORD);
        p.put("ssl.truststore.type", "PKCS12");
        return p;
    }
}
