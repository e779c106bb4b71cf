package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.local.EmbeddedKafkaBroker;
import io.slidestream.local.Ports;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code publish} and {@code watch} against a real (embedded KRaft) Kafka broker. */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaCommandsITCase {
    static final FileTime SCANNED = FileTime.from(Instant.parse("2026-11-22T10:00:00Z"));
    static final ObjectMapper JSON = new ObjectMapper();

    static EmbeddedKafkaBroker broker;

    @TempDir Path dir;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start();
        broker.createTopics(1, "published", "given", "refused", "watched");
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    Path slide(String name, int bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, new byte[bytes]);
        Files.setLastModifiedTime(file, SCANNED);
        return file;
    }

    @Test
    void publishesOneEventPerSlideAndPrintsEachAsAJsonLine() throws Exception {
        Path a = slide("a.svs", 10);
        Path b = slide("b.tiff", 20);

        CliRun run =
                CliRun.of(
                        "publish",
                        a.toString(),
                        b.toUri().toString(),
                        "-D",
                        "kafka.bootstrap-servers=" + broker.bootstrapServers(),
                        "-D",
                        "kafka.topic.scanned=published",
                        "--scanner-id",
                        "scanner-7");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : run.out().strip().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).get("slide_id").asText()).isEqualTo(SlidePublisher.slideIdFor(a));
        assertThat(lines.get(0).get("uri").asText()).isEqualTo(a.toString());
        assertThat(lines.get(1).get("slide_id").asText()).isEqualTo(SlidePublisher.slideIdFor(b));
        assertThat(lines.get(1).get("uri").asText()).isEqualTo(b.toString());

        List<SlideScanned> events = readAll("published", 2);
        assertThat(events)
                .extracting(e -> e.getSlideId())
                .containsExactly(SlidePublisher.slideIdFor(a), SlidePublisher.slideIdFor(b));
        assertThat(events).extracting(e -> e.getUri()).containsExactly(a.toString(), b.toString());
        assertThat(events).extracting(e -> e.getScannerId()).containsOnly("scanner-7");
        assertThat(events.get(0).getScannedAt()).isEqualTo(SCANNED.toInstant());
    }

    @Test
    void publishesUnderTheGivenSlideId() throws Exception {
        Path a = slide("given.svs", 10);
        CliRun run =
                CliRun.of(
                        "publish",
                        a.toString(),
                        "--slide-id",
                        "S-0001",
                        "-D",
                        "kafka.bootstrap-servers=" + broker.bootstrapServers(),
                        "-D",
                        "kafka.topic.scanned=given");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(JSON.readTree(run.out()).get("slide_id").asText()).isEqualTo("S-0001");
        assertThat(readAll("given", 1)).extracting(e -> e.getSlideId()).containsExactly("S-0001");
    }

    @Test
    void readsTheBrokersAndTheTopicFromTheJobsConfigurationFile() throws Exception {
        Path a = slide("from-config.svs", 10);
        Path conf =
                Files.writeString(
                        dir.resolve("slidestream.yaml"),
                        "kafka:\n  bootstrap-servers: "
                                + broker.bootstrapServers()
                                + "\n  topic.scanned: configured\nmilvus.uri: http://milvus:19530\n");
        CliRun run = CliRun.of("publish", a.toString(), "--config", conf.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(readAll("configured", 1))
                .extracting(e -> e.getSlideId())
                .containsExactly(SlidePublisher.slideIdFor(a));
    }

    @Test
    void refusesToPublishWithoutBrokersNamingTheKey() throws Exception {
        CliRun run = CliRun.of("publish", slide("nowhere.svs", 1).toString());
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith("INVALID_CONFIG: ")
                .contains("kafka.bootstrap-servers is not set")
                .contains("--config");
    }

    /** An unreachable broker is an infrastructure failure, never the slide's. */
    @Test
    void reportsAnUnreachableBrokerAsStoreUnavailable() throws Exception {
        int closed = Ports.free();
        CliRun run =
                CliRun.of(
                        "publish",
                        slide("unreachable.svs", 1).toString(),
                        "-D",
                        "kafka.bootstrap-servers=127.0.0.1:" + closed,
                        "--kafka-timeout",
                        "2s");
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith("STORE_UNAVAILABLE: ")
                .contains("127.0.0.1:" + closed)
                .contains("Check that the broker is reachable");
    }

    @Test
    void refusesAMissingFileWithSlideNotFoundBeforePublishingAnything() throws Exception {
        Path present = slide("present.svs", 10);
        CliRun run =
                CliRun.of(
                        "publish",
                        present.toString(),
                        dir.resolve("missing.svs").toString(),
                        "-D",
                        "kafka.bootstrap-servers=" + broker.bootstrapServers(),
                        "-D",
                        "kafka.topic.scanned=refused");

        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("SLIDE_NOT_FOUND: ").contains("missing.svs");
        assertThat(run.out()).isEmpty();
        assertThat(endOffset("refused")).isZero();
    }

    @Test
    void refusesOneSlideIdForSeveralSlides() throws Exception {
        CliRun run =
                CliRun.of(
                        "publish",
                        slide("one.svs", 1).toString(),
                        slide("two.svs", 2).toString(),
                        "--slide-id",
                        "S",
                        "-D",
                        "kafka.bootstrap-servers=" + broker.bootstrapServers());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--slide-id names one slide but 2 URIs were given");
    }

    @Test
    void watchPublishesASlideThatAppearsAndStopsWhenInterrupted() throws Exception {
        Path inbox = Files.createDirectory(dir.resolve("inbox"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicInteger exit = new AtomicInteger(-1);
        Thread watch =
                new Thread(
                        () ->
                                exit.set(
                                        SlideStreamCli.execute(
                                                new PrintWriter(out, true),
                                                new PrintWriter(err, true),
                                                "watch",
                                                inbox.toString(),
                                                "-D",
                                                "kafka.bootstrap-servers="
                                                        + broker.bootstrapServers(),
                                                "-D",
                                                "kafka.topic.scanned=watched",
                                                "--poll-interval",
                                                "100ms",
                                                "--stable-for",
                                                "200ms")),
                        "watch-command");
        watch.start();
        Path slide = inbox.resolve("new.svs");
        Files.write(slide, new byte[64]);

        Awaitility.await("the watcher's first event")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !out.toString().isEmpty() || !watch.isAlive());
        watch.interrupt();
        watch.join(Duration.ofSeconds(30).toMillis());

        assertThat(watch.isAlive()).isFalse();
        assertThat(exit.get()).as(err.toString()).isZero();
        assertThat(err.toString()).contains("Watching " + inbox);
        JsonNode line = JSON.readTree(out.toString().strip());
        assertThat(line.get("slide_id").asText()).isEqualTo(SlidePublisher.slideIdFor(slide));
        assertThat(readAll("watched", 1))
                .extracting(e -> e.getUri())
                .containsExactly(slide.toString());
    }

    private static List<SlideScanned> readAll(String topic, int expected) throws Exception {
        List<SlideScanned> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    SlideScanned e = AvroCodec.SLIDE_SCANNED.decode(r.value());
                    assertThat(new String(r.key(), StandardCharsets.UTF_8))
                            .isEqualTo(e.getSlideId());
                    out.add(e);
                }
            }
        }
        return out.subList(0, Math.min(out.size(), expected));
    }

    private static long endOffset(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(topic, 0);
            Map<TopicPartition, Long> end = consumer.endOffsets(List.of(tp));
            return end.get(tp);
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
