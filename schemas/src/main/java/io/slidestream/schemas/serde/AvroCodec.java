package io.slidestream.schemas.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one generated Avro event class ({@link SlideScanned}, {@link SlideResult},
 * {@link SlideFailed}) in two forms:
 *
 * <ul>
 *   <li><b>Avro binary</b> with the class's own schema as writer schema, no header and no schema
 *       id: the value format of every SlideStream topic. Both sides share the schema in {@code
 *       schemas/src/main/avro}.
 *   <li><b>Plain JSON</b> (see {@link AvroJson}): field names as in the schema, timestamps as
 *       ISO-8601 strings (epoch milliseconds accepted on input), optional fields as a plain value
 *       or absent. Meant for people, for {@code kafka-console-producer} and for {@code slidestream
 *       publish}, not for Avro's own JSON encoding (which wraps every union value).
 * </ul>
 *
 * <p>Decoding never throws an unchecked exception for bad input: empty values, truncated or
 * trailing bytes, impossible lengths and unknown JSON fields all give a {@link
 * MalformedEventException} that says what was wrong. Binary values are first walked with Avro's
 * skip logic, which checks every length against the bytes actually there, so a garbage length
 * prefix cannot make the decoder allocate gigabytes.
 *
 * <p>Instances are immutable, serializable and thread-safe; encoders and decoders are made per call
 * (these are events, not pixels). Inside a Flink job the events travel between operators and into
 * state through flink-avro's serializer, not through this codec.
 */
public final class AvroCodec<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final AvroCodec<SlideScanned> SLIDE_SCANNED = of(SlideScanned.class);
    public static final AvroCodec<SlideResult> SLIDE_RESULT = of(SlideResult.class);
    public static final AvroCodec<SlideFailed> SLIDE_FAILED = of(SlideFailed.class);

    private final Class<T> type;

    /**
     * The schema the bytes were written with; the class's own schema unless reading an older one.
     */
    private final String writerSchemaJson;

    private transient Schema readerSchema;
    private transient Schema writerSchema;
    private transient SpecificData model;
    private transient SpecificDatumWriter<T> writer;
    private transient SpecificDatumReader<T> reader;

    private AvroCodec(Class<T> type, Schema writerSchema) {
        this.type = Objects.requireNonNull(type, "type");
        this.writerSchemaJson = writerSchema.toString();
    }

    /** A codec for a generated Avro class, writing and reading with the class's own schema. */
    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type, SpecificData.get().getSchema(type));
    }

    /**
     * A codec that reads bytes written with {@code writerSchema} (an older version of the event)
     * into the current class, resolving the two schemas as Avro does. Writing still uses the
     * class's own schema.
     */
    public AvroCodec<T> withWriterSchema(Schema writerSchema) {
        return new AvroCodec<>(type, writerSchema);
    }

    public Class<T> type() {
        return type;
    }

    /** The schema of the generated class (the reader schema). */
    public Schema schema() {
        init();
        return readerSchema;
    }

    /** The schema the bytes this codec reads were written with. */
    public Schema writerSchema() {
        init();
        return writerSchema;
    }

    /** The short name of the event, e.g. {@code SlideScanned}, for messages. */
    public String eventName() {
        return type.getSimpleName();
    }

    /** Avro binary of {@code record}; a record with a required field unset is a bug: unchecked. */
    public byte[] encode(T record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            write(record, encoder);
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail; anything here is a broken record.
            throw new IllegalStateException("Cannot encode " + eventName() + ": " + e, e);
        }
        return out.toByteArray();
    }

    /** Writes {@code record} as Avro binary to {@code encoder} (flushes it). */
    private void write(T record, BinaryEncoder encoder) throws IOException {
        init();
        Objects.requireNonNull(record, "record");
        try {
            writer.write(record, encoder);
        } catch (NullPointerException | ClassCastException | AvroRuntimeException e) {
            throw new IllegalArgumentException(
                    "Cannot encode "
                            + eventName()
                            + ": "
                            + e.getMessage()
                            + " (every field without a default must be set)",
                    e);
        }
        encoder.flush();
    }

    /** Decodes Avro binary from outside (a Kafka value): the whole array is one record. */
    public T decode(byte[] bytes) throws MalformedEventException {
        Objects.requireNonNull(bytes, "bytes");
        return decode(bytes, 0, bytes.length);
    }

    /**
     * Decodes Avro binary from outside: {@code length} bytes from {@code offset} are one record.
     */
    public T decode(byte[] bytes, int offset, int length) throws MalformedEventException {
        init();
        if (length == 0) {
            throw new MalformedEventException(
                    "the value is empty; expected an Avro binary or JSON " + eventName());
        }
        try {
            // Walk the bytes first, every length and count against what is there, allocating
            // nothing: garbage fails here instead of in a huge allocation by Avro's decoder.
            int trailing;
            try {
                trailing = AvroBinaryBounds.walk(writerSchema, bytes, offset, length);
            } catch (AvroBinaryBounds.Violation e) {
                throw new MalformedEventException(
                        e.outOfBytes
                                ? "the value ("
                                        + length
                                        + " bytes) ends before a whole Avro binary "
                                        + eventName()
                                        + " was read ("
                                        + e.getMessage()
                                        + "): truncated, a different schema, or not Avro"
                                : "the value ("
                                        + length
                                        + " bytes) is not an Avro binary "
                                        + eventName()
                                        + ": "
                                        + e.getMessage());
            }
            if (trailing != 0) {
                throw new MalformedEventException(trailingMessage(length, trailing));
            }
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, offset, length, null);
            return reader.read(null, decoder);
        } catch (EOFException e) {
            throw new MalformedEventException(
                    "the value ("
                            + length
                            + " bytes) ends before a whole Avro binary "
                            + eventName()
                            + " was read: truncated, a different schema, or not Avro",
                    e);
        } catch (IOException | RuntimeException e) {
            throw new MalformedEventException(
                    "the value ("
                            + length
                            + " bytes) is not an Avro binary "
                            + eventName()
                            + ": "
                            + describe(e),
                    e);
        }
    }

    /**
     * Decodes a value that is either plain JSON (its first byte other than ASCII whitespace is
     * {@code '{'}) or Avro binary (anything else). A value that looks like JSON but is not valid
     * JSON is tried as binary too, since a binary record can start with those bytes by chance; when
     * both fail the JSON error is reported, as the sender most likely meant JSON.
     */
    public T decodeBinaryOrJson(byte[] bytes) throws MalformedEventException {
        Objects.requireNonNull(bytes, "bytes");
        if (!looksLikeJson(bytes)) {
            return decode(bytes);
        }
        try {
            return fromJson(new String(bytes, StandardCharsets.UTF_8));
        } catch (MalformedEventException jsonError) {
            try {
                return decode(bytes);
            } catch (MalformedEventException binaryError) {
                throw jsonError;
            }
        }
    }

    /** True when the first byte other than ASCII whitespace is '{'. */
    public static boolean looksLikeJson(byte[] bytes) {
        for (byte b : bytes) {
            if (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
                continue;
            }
            return b == '{';
        }
        return false;
    }

    /** One line of plain JSON (the form {@code kafka-console-producer} takes). */
    public String toJson(T record) {
        init();
        return AvroJson.write(record, false);
    }

    /** Indented plain JSON for people. */
    public String toPrettyJson(T record) {
        init();
        return AvroJson.write(record, true);
    }

    /** Parses plain JSON; unknown fields, missing required fields and wrong types are errors. */
    public T fromJson(String json) throws MalformedEventException {
        init();
        Objects.requireNonNull(json, "json");
        if (json.isBlank()) {
            throw new MalformedEventException(
                    "the value is empty; expected an Avro binary or JSON " + eventName());
        }
        try {
            return type.cast(AvroJson.read(json, readerSchema, model));
        } catch (JsonProcessingException e) {
            throw new MalformedEventException(
                    "the value is not valid JSON for "
                            + eventName()
                            + ": "
                            + e.getOriginalMessage()
                            + " (line "
                            + e.getLocation().getLineNr()
                            + ", column "
                            + e.getLocation().getColumnNr()
                            + ")",
                    e);
        } catch (IOException | RuntimeException e) {
            throw new MalformedEventException(
                    "the value is not valid JSON for " + eventName() + ": " + describe(e), e);
        }
    }

    /** A deep copy (Avro records and their lists and maps are mutable). */
    public T copy(T record) {
        init();
        return model.deepCopy(readerSchema, record);
    }

    private void init() {
        if (reader != null) {
            return;
        }
        model = SpecificData.getForClass(type);
        readerSchema = model.getSchema(type);
        writerSchema = new Schema.Parser().parse(writerSchemaJson);
        writer = new SpecificDatumWriter<>(readerSchema, model);
        reader = new SpecificDatumReader<>(writerSchema, readerSchema, model);
    }

    private String trailingMessage(int length, int trailing) {
        return "the value ("
                + length
                + " bytes) has "
                + trailing
                + " bytes after a whole Avro binary "
                + eventName()
                + ": not a single "
                + eventName()
                + " record, or written with a different schema";
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroCodec
                && ((AvroCodec<?>) o).type.equals(type)
                && ((AvroCodec<?>) o).writerSchemaJson.equals(writerSchemaJson);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + writerSchemaJson.hashCode();
    }

    @Override
    public String toString() {
        return "AvroCodec<" + eventName() + ">";
    }
}
