package io.slidestream.source;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.schemas.serde.ForgetRequests;
import io.slidestream.schemas.serde.MalformedEventException;
import io.slidestream.schemas.serde.SlideScannedRules;
import io.slidestream.types.SlideStreamTypes;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns each record of {@code slides.scanned} into exactly one {@code Either<SlideFailed,
 * SlideScanned>}: right for an event that decodes and keeps {@link SlideScannedRules}, left for
 * anything else, so a bad record becomes a dead letter and the job goes on.
 *
 * <p>Values are read as plain JSON when their first non-whitespace byte is {@code '{'} (what people
 * type into {@code kafka-console-producer}) and as Avro binary otherwise (what {@code slidestream
 * publish}, the folder watcher and scanners send); see {@link AvroCodec#decodeBinaryOrJson}. Keys
 * of announcements are ignored. A tombstone (no value) keyed by a slide id is a request to forget
 * that slide ({@link ForgetRequests}, written by {@code slidestream forget}); one without a key,
 * or keyed by something that is not a slide id, is a failure like any bad record.
 *
 * <p>A failure is a {@link SlideFailed} with code {@link ErrorCode#MALFORMED_EVENT}, stage {@value
 * #STAGE}, slide id {@code kafka:<topic>:<partition>:<offset>} (the only stable name an
 * undecodable record has; a replay gives the same id), the uri when one could be read, and a
 * message naming the record and what was wrong. Stateless; {@code failed_at} comes from the
 * clock.
 */
public final class SlideScannedDeserializer
        implements KafkaRecordDeserializationSchema<Either<SlideFailed, SlideScanned>> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SlideScannedDeserializer.class);

    /** The {@code stage} of the dead letters this deserializer emits. */
    public static final String STAGE = "decode";

    private final Clock clock;

    public SlideScannedDeserializer() {
        this(Clock.systemUTC());
    }

    /** With a clock for {@code failed_at} (tests use a fixed one). */
    public SlideScannedDeserializer(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<SlideFailed, SlideScanned>> out) {
        byte[] value = record.value();
        SlideScanned event = null;
        try {
            if (value == null) {
                out.collect(Either.Right(ForgetRequests.of(tombstoneKey(record.key()))));
                return;
            }
            event = AvroCodec.SLIDE_SCANNED.decodeBinaryOrJson(value);
            out.collect(Either.Right(SlideScannedRules.check(event)));
        } catch (MalformedEventException e) {
            SlideFailed failed = failure(record, event, e.getMessage());
            LOG.warn("Dead-lettering {}: {}", failed.getSlideId(), failed.getMessage());
            out.collect(Either.Left(failed));
        }
    }

    /** The slide a tombstone forgets: its key, which must be a valid slide id. */
    private static String tombstoneKey(byte[] key) throws MalformedEventException {
        if (key == null) {
            throw new MalformedEventException(
                    "the value is null (a tombstone) and so is the key; a tombstone forgets the"
                            + " slide named by its key (slidestream forget writes them), an"
                            + " announcement is an Avro binary or JSON SlideScanned");
        }
        try {
            return SlideScannedRules.checkSlideId(new String(key, StandardCharsets.UTF_8));
        } catch (MalformedEventException e) {
            throw new MalformedEventException(
                    "the value is null (a tombstone) but its key is not a slide id ("
                            + e.getMessage()
                            + "); a tombstone forgets the slide named by its key",
                    e);
        }
    }

    /** The id a record that cannot be decoded is known by: {@code kafka:topic:partition:offset}. */
    public static String recordId(String topic, int partition, long offset) {
        return "kafka:" + topic + ":" + partition + ":" + offset;
    }

    private SlideFailed failure(
            ConsumerRecord<byte[], byte[]> record, SlideScanned decoded, String problem) {
        String where =
                record.topic() + " partition " + record.partition() + " offset " + record.offset();
        String uri = decoded == null || decoded.getUri() == null ? "" : decoded.getUri();
        return SlideFailed.newBuilder()
                .setSlideId(recordId(record.topic(), record.partition(), record.offset()))
                .setUri(uri)
                .setCode(ErrorCode.MALFORMED_EVENT.name())
                .setMessage(
                        "Record at "
                                + where
                                + " is not a valid SlideScanned event: "
                                + problem
                                + ". Publish Avro binary with the SlideScanned schema or one line"
                                + " of JSON such as {\"slide_id\": \"s1\", \"uri\": \"/data/s1.svs\","
                                + " \"scanned_at\": \"2026-11-22T10:00:00Z\", \"scanner_id\":"
                                + " \"scanner-1\"}.")
                .setStage(STAGE)
                .setFailedAt(Instant.ofEpochMilli(clock.millis()))
                .build();
    }

    @Override
    public TypeInformation<Either<SlideFailed, SlideScanned>> getProducedType() {
        return SlideStreamTypes.DECODED_EVENT;
    }
}
