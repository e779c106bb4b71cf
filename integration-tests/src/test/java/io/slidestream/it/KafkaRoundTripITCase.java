package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.EmbeddedKafkaBroker;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.schemas.serde.MalformedEventException;
import io.slidestream.sink.KafkaSinks;
import io.slidestream.source.DecodedEventRouter;
import io.slidestream.source.SlideScannedDeserializer;
import io.slidestream.source.SlideScannedSource;
import io.slidestream.source.SlideScannedSource.StartingOffsets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka side end to end against a real in-process KRaft broker and a Flink MiniCluster: events
 * published by {@link SlidePublisher} and by hand (JSON, garbage, an invalid uri) go through the
 * KafkaSource and {@link SlideScannedDeserializer}; decoded events become results, malformed
 * records dead letters, both through the exactly-once {@link KafkaSinks}; a {@code read_committed}
 * consumer then sees exactly the expected records, each once.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaRoundTripITCase {
    static final String SCANNED = "slides.scanned";
    static final String RESULTS = "slides.results";
    static final String DEAD_LETTER = "slides.dead-letter";
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = StoreTestEnvironment.miniCluster();

    static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start();
        System.out.printf("Embedded Kafka broker started in %d ms%n", broker.startupMillis());
        broker.createTopics(2, SCANNED);
        broker.createTopics(1, RESULTS, DEAD_LETTER);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void deliversResultsAndDeadLettersExactlyOnce(@TempDir Path inbox) throws Exception {
        assertThat(broker.topics()).contains(SCANNED, RESULTS, DEAD_LETTER);

        // Two real files announced the way `slidestream publish` does.
        List<SlideScanned> published = new ArrayList<>();
        try (SlidePublisher publisher =
                SlidePublisher.builder()
                        .bootstrapServers(broker.bootstrapServers())
                        .topic(SCANNED)
                        .build()) {
            for (String name : List.of("case-1.svs", "case-2.ndpi")) {
                Path file = inbox.resolve(name);
                Files.write(file, name.getBytes(StandardCharsets.UTF_8));
                Files.setLastModifiedTime(file, FileTime.from(SCANNED_AT));
                published.add(publisher.publish(file.toString()));
            }
            // Publishing the same unchanged file again keeps its id.
            assertThat(SlidePublisher.slideIdFor(inbox.resolve("case-1.svs")))
                    .isEqualTo(published.get(0).getSlideId());
        }

        // A person with kafka-console-producer, a broken producer and an invalid event.
        String json =
                "{\"slide_id\": \"typed-by-hand\", \"uri\": \"/data/typed.tiff\","
                        + " \"scanned_at\": \"2026-11-22T10:00:00Z\", \"scanner_id\": \"console\"}";
        String badUri =
                "{\"slide_id\": \"bad-uri\", \"uri\": \"relative/x.svs\","
                        + " \"scanned_at\": 0, \"scanner_id\": \"console\"}";
        Map<String, long[]> rawOffsets = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> raw = rawProducer()) {
            send(raw, "json", json.getBytes(StandardCharsets.UTF_8), rawOffsets);
            send(raw, "garbage", new byte[] {(byte) 0xff, 0x01, 0x02}, rawOffsets);
            send(raw, "bad-uri", badUri.getBytes(StandardCharsets.UTF_8), rawOffsets);
        }

        long begin = System.nanoTime();
        runJob();
        System.out.printf(
                "Flink job (Kafka -> decode -> exactly-once sinks) ran in %d ms%n",
                (System.nanoTime() - begin) / 1_000_000);

        List<SlideResult> results = readCommitted(RESULTS, AvroCodec.SLIDE_RESULT);
        List<SlideFailed> deadLetters = readCommitted(DEAD_LETTER, AvroCodec.SLIDE_FAILED);

        assertThat(results)
                .extracting(SlideResult::getSlideId)
                .containsExactlyInAnyOrder(
                        published.get(0).getSlideId(),
                        published.get(1).getSlideId(),
                        "typed-by-hand");
        assertThat(results)
                .filteredOn(r -> r.getSlideId().equals("typed-by-hand"))
                .extracting(SlideResult::getUri)
                .containsExactly("/data/typed.tiff");

        assertThat(deadLetters)
                .extracting(SlideFailed::getSlideId)
                .containsExactlyInAnyOrder(
                        recordId(rawOffsets.get("garbage")), recordId(rawOffsets.get("bad-uri")));
        assertThat(deadLetters)
                .allSatisfy(
                        f -> {
                            assertThat(f.getCode()).isEqualTo(ErrorCode.MALFORMED_EVENT.name());
                            assertThat(f.getStage()).isEqualTo("decode");
                        });
        assertThat(deadLetters)
                .filteredOn(f -> f.getUri().equals("relative/x.svs"))
                .singleElement()
                .satisfies(f -> assertThat(f.getMessage()).contains("relative path"));
    }

    /** Kafka -> deserializer -> router -> a stand-in aggregate -> exactly-once sinks. */
    static void runJob() throws Exception {
        Configuration config = new Configuration();
        config.set(PipelineOptions.GENERIC_TYPES, false);
        config.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(300));
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        config.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setParallelism(2);

        KafkaSinks sinks =
                KafkaSinks.builder()
                        .bootstrapServers(broker.bootstrapServers())
                        .transactionalIdPrefix("kafka-round-trip-it")
                        .transactionTimeout(Duration.ofMinutes(1))
                        .build();
        SingleOutputStreamOperator<SlideScanned> events =
                env.fromSource(
                                SlideScannedSource.builder()
                                        .bootstrapServers(broker.bootstrapServers())
                                        .topic(SCANNED)
                                        .groupId("kafka-round-trip-it")
                                        .startingOffsets(StartingOffsets.EARLIEST)
                                        .bounded(true)
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "slides.scanned")
                        .uid("slides-scanned-source")
                        .process(new DecodedEventRouter())
                        .uid("decoded-event-router");
        events.getSideOutput(DecodedEventRouter.MALFORMED)
                .sinkTo(sinks.deadLetters(DEAD_LETTER))
                .uid("dead-letter-kafka-sink");
        events.map(KafkaRoundTripITCase::standInResult)
                .uid("stand-in-aggregate")
                .sinkTo(sinks.results(RESULTS))
                .uid("results-kafka-sink");
        env.execute("kafka-round-trip");
    }

    /** Takes the aggregate's place: one result per event (the window is tested elsewhere). */
    static SlideResult standInResult(SlideScanned event) {
        return SlideResult.newBuilder()
                .setSlideId(event.getSlideId())
                .setUri(event.getUri())
                .setModelId("none")
                .setComplete(true)
                .setTileCount(0)
                .setTilesReceived(0)
                .setLevel(0)
                .setTilePx(256)
                .setMpp(0.5)
                .setScannedAt(event.getScannedAt())
                .setCompletedAt(event.getScannedAt())
                .setLogits(List.of())
                .setProbabilities(List.of())
                .setPredictedClass(-1)
                .setMeanEmbedding(List.of())
                .setTissueComposition(List.of())
                .setTopTiles(List.of())
                .build();
    }

    static KafkaProducer<byte[], byte[]> rawProducer() {
        Properties p = new Properties();
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static void send(
            KafkaProducer<byte[], byte[]> producer,
            String key,
            byte[] value,
            Map<String, long[]> offsets)
            throws Exception {
        var metadata =
                producer.send(
                                new ProducerRecord<>(
                                        SCANNED, key.getBytes(StandardCharsets.UTF_8), value))
                        .get();
        offsets.put(key, new long[] {metadata.partition(), metadata.offset()});
    }

    static String recordId(long[] partitionAndOffset) {
        return SlideScannedDeserializer.recordId(
                SCANNED, (int) partitionAndOffset[0], partitionAndOffset[1]);
    }

    /** Everything committed on {@code topic}, read to the end with read_committed. */
    static <T extends org.apache.avro.specific.SpecificRecord> List<T> readCommitted(
            String topic, AvroCodec<T> codec) throws MalformedEventException {
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic)
                    .forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // With read_committed the end offsets are the last stable offsets: nothing open
            // remains once the bounded job has finished and committed.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading " + topic).isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    T value = codec.decode(r.value());
                    assertThat(new String(r.key(), StandardCharsets.UTF_8))
                            .isEqualTo(value.get(0).toString());
                    out.add(value);
                }
            }
        }
        return out;
    }
}
