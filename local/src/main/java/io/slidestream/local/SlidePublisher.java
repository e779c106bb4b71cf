package io.slidestream.local;

import io.slidestream.config.KafkaConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.schemas.serde.MalformedEventException;
import io.slidestream.schemas.serde.SlideScannedRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Announces slides on {@code slides.scanned}: one {@link SlideScanned} per call, Avro binary, key =
 * slide id, through an idempotent producer with {@code acks=all}. Each call waits for the broker's
 * acknowledgement, so a returned event is stored in Kafka.
 *
 * <p>For a file, the slide id is derived from the file name, size and modification time ({@link
 * #slideIdFor}): publishing the same unchanged file again gives the same id (the job's sinks
 * overwrite, never duplicate), while a rescanned file under the same name gets a new one. {@code
 * scanned_at} is the file's modification time.
 *
 * <p>Failures are {@link SlideStreamException}s: SLIDE_NOT_FOUND for a missing file,
 * MALFORMED_EVENT for an event that breaks {@link SlideScannedRules}, INTERNAL when Kafka does not
 * acknowledge within the timeout. Thread-safe (the Kafka producer is).
 */
public final class SlidePublisher implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String scannerId;
    private final Duration timeout;
    private final String bootstrapServers;

    private SlidePublisher(Builder b) {
        this.topic = b.topic;
        this.scannerId = b.scannerId;
        this.timeout = b.timeout;
        this.bootstrapServers = b.bootstrapServers;
        Properties p = new Properties();
        p.putAll(b.properties);
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
        p.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Without a reachable broker, send() blocks for metadata this long before failing.
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(b.timeout.toMillis()));
        p.putIfAbsent(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                Long.toString(Math.max(b.timeout.toMillis(), 1_000)));
        p.putIfAbsent(
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                Long.toString(Math.min(b.timeout.toMillis(), 30_000)));
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
        this.producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A publisher to the job's {@code slides.scanned} topic on its brokers, with its {@code
     * kafka.properties.*} client settings (TLS, SASL).
     */
    public static SlidePublisher forJob(KafkaConfig kafka, String scannerId, Duration timeout) {
        return builder()
                .bootstrapServers(kafka.bootstrapServers())
                .topic(kafka.scannedTopic())
                .scannerId(scannerId)
                .timeout(timeout)
                .properties(kafka.clientPropertiesAsProperties())
                .build();
    }

    /**
     * Publishes {@code uri} (an absolute path or a {@code file:} URI of an existing slide file)
     * with an id derived from the file.
     */
    public SlideScanned publish(String uri) {
        return publish(pathOf(uri), null);
    }

    /** Publishes an existing slide file; {@code slideId} null derives it from the file. */
    public SlideScanned publish(Path file, String slideId) {
        return publish(eventFor(file, slideId, scannerId));
    }

    /**
     * The event that announces an existing slide file: {@code slideId} (null derives it from the
     * file, {@link #slideIdFor}), its absolute path, and as the scan time its modification time -
     * or, for a symbolic link, the later of the link's and its target's (a link made today to a
     * slide scanned last year announces it today: the dashboard's latency counts from there).
     */
    public static SlideScanned eventFor(Path file, String slideId, String scannerId) {
        Path absolute = file.toAbsolutePath().normalize();
        BasicFileAttributes attributes = attributes(absolute);
        long scanned = attributes.lastModifiedTime().toMillis();
        if (Files.isSymbolicLink(absolute)) {
            try {
                scanned =
                        Math.max(
                                scanned,
                                Files.getLastModifiedTime(absolute, LinkOption.NOFOLLOW_LINKS)
                                        .toMillis());
            } catch (IOException e) {
                // The target's time stands.
            }
        }
        return SlideScanned.newBuilder()
                .setSlideId(slideId != null ? slideId : slideIdFor(absolute, attributes))
                .setUri(absolute.toString())
                .setScannedAt(Instant.ofEpochMilli(scanned))
                .setScannerId(scannerId)
                .setAttributes(Map.of("size_bytes", Long.toString(attributes.size())))
                .build();
    }

    /** Publishes a ready-made event after checking {@link SlideScannedRules}. */
    public SlideScanned publish(SlideScanned event) {
        try {
            SlideScannedRules.check(event);
        } catch (MalformedEventException e) {
            throw new SlideStreamException(e.code(), e.getMessage(), e);
        }
        send(event.getSlideId(), AvroCodec.SLIDE_SCANNED.encode(event), "the event");
        return event;
    }

    /** The topic this publisher writes to. */
    public String topic() {
        return topic;
    }

    /**
     * Writes a tombstone for {@code slideId} (its key, no value): the running job's planner then
     * forgets the slide ({@code ForgetRequests}), and a compacted topic drops its announcements.
     */
    public void forget(String slideId) {
        send(slideId, null, "the tombstone");
    }

    private void send(String slideId, byte[] value, String what) {
        ProducerRecord<byte[], byte[]> record =
                new ProducerRecord<>(topic, slideId.getBytes(StandardCharsets.UTF_8), value);
        try {
            producer.send(record).get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "interrupted while publishing", e);
        } catch (ExecutionException | TimeoutException | org.apache.kafka.common.KafkaException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "Kafka at "
                            + bootstrapServers
                            + " did not take "
                            + what
                            + " for slide "
                            + slideId
                            + " on topic "
                            + topic
                            + ": "
                            + cause.getMessage()
                            + " Check that the broker is reachable and the topic exists.",
                    cause);
        }
    }

    /**
     * {@code <file stem>-<12 hex digits>}: the stem (characters outside {@code [A-Za-z0-9._-]}
     * replaced by '_') and a SHA-256 prefix of name, size and modification time.
     */
    public static String slideIdFor(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        return slideIdFor(absolute, attributes(absolute));
    }

    private static String slideIdFor(Path file, BasicFileAttributes attributes) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = (dot > 0 ? name.substring(0, dot) : name).replaceAll("[^A-Za-z0-9._-]", "_");
        if (stem.length() > 200) {
            stem = stem.substring(0, 200);
        }
        String identity =
                name + "|" + attributes.size() + "|" + attributes.lastModifiedTime().toMillis();
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256")
                            .digest(identity.getBytes(StandardCharsets.UTF_8));
            return stem + "-" + HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /**
     * The file of {@code uri} (an absolute path or a {@code file:} URI); INVALID_REQUEST for a
     * relative path or another scheme.
     */
    public static Path pathOf(String uri) {
        try {
            return SlideScannedRules.toPath(uri, "(to be derived)");
        } catch (MalformedEventException e) {
            throw new SlideStreamException(ErrorCode.INVALID_REQUEST, e.getMessage(), e);
        }
    }

    private static BasicFileAttributes attributes(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new SlideStreamException(
                        ErrorCode.SLIDE_NOT_FOUND,
                        file + " is not a regular file; give a slide file");
            }
            return a;
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.SLIDE_NOT_FOUND,
                    "cannot read "
                            + file
                            + " ("
                            + e.getMessage()
                            + "); give an existing slide file",
                    e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }

    /** Settings; only the bootstrap servers are required. */
    public static final class Builder {
        private String bootstrapServers;
        private String topic = "slides.scanned";
        private String scannerId = "slidestream-publish";
        private Duration timeout = Duration.ofSeconds(30);
        private final Properties properties = new Properties();

        private Builder() {}

        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        public Builder topic(String topic) {
            this.topic = topic;
            return this;
        }

        /** Who announces the slides ({@code scanner_id}). */
        public Builder scannerId(String scannerId) {
            this.scannerId = scannerId;
            return this;
        }

        /** How long a publish may wait for Kafka (metadata and acknowledgement). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Extra producer properties (security); acks and idempotence stay as set here. */
        public Builder properties(Properties extra) {
            properties.putAll(extra);
            return this;
        }

        public SlidePublisher build() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "SlidePublisher needs the Kafka bootstrap servers (host:port)");
            }
            if (topic == null || topic.isBlank() || scannerId == null || scannerId.isBlank()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "SlidePublisher needs a topic and a scanner id, got topic '"
                                + topic
                                + "' and scanner id '"
                                + scannerId
                                + "'");
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "SlidePublisher timeout must be positive, not " + timeout);
            }
            return new SlidePublisher(this);
        }
    }
}
