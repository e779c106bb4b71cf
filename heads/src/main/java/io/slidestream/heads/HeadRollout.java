package io.slidestream.heads;

import io.slidestream.aggregate.HeadAnnouncement;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.HeadCard;
import io.slidestream.schemas.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code heads deploy} and {@code heads retire}: announces a head to the running job on {@code
 * kafka.topic.heads} (key head_id, JSON value), which the job broadcasts to its live heads. A head
 * is checked first (its card must describe its ONNX file); its path goes into the announcement, so
 * it must be where every TaskManager can read it, as slide files are.
 */
public final class HeadRollout {

    private final String bootstrapServers;
    private final String topic;
    private final Properties properties;
    private final Duration timeout;

    public HeadRollout(
            String bootstrapServers, String topic, Properties properties, Duration timeout) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.properties = properties;
        this.timeout = timeout;
    }

    /** Checks the head in {@code dir} and announces it; returns its card. */
    public HeadCard deploy(Path dir) {
        Path onnx = dir.resolve(HeadCard.MODEL_FILE).toAbsolutePath().normalize();
        HeadCard card;
        try (HeadScorer scorer = HeadScorer.open(dir)) {
            card = scorer.card();
        }
        send(
                card.headId(),
                HeadAnnouncement.deploy(
                                card.headId(),
                                card.modelId(),
                                card.dimension(),
                                onnx.toString(),
                                System.currentTimeMillis())
                        .toJson());
        return card;
    }

    /** Announces that {@code headId} predicts no more. */
    public void retire(String headId) {
        send(headId, HeadAnnouncement.retire(headId, System.currentTimeMillis()).toJson());
    }

    private void send(String key, String value) {
        Properties p = new Properties();
        p.putAll(properties);
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
        p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeout.toMillis()));
        p.setProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        p.setProperty(
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                Long.toString(Math.min(timeout.toMillis(), 30_000)));
        // The delivery timeout must cover linger + request timeout: send at once.
        p.setProperty(ProducerConfig.LINGER_MS_CONFIG, "0");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(
                            new ProducerRecord<>(
                                    topic,
                                    key.getBytes(StandardCharsets.UTF_8),
                                    value.getBytes(StandardCharsets.UTF_8)))
                    .get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "could not announce head "
                            + key
                            + " on Kafka topic "
                            + topic
                            + " at "
                            + bootstrapServers
                            + ": "
                            + cause
                            + ". Check kafka.bootstrap-servers and that the topic exists",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
