package io.slidestream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class AvroCodecTest {
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00Z");
    static final Instant ONE_MINUTE_LATER = SCANNED_AT.plusSeconds(60);

    static SlideScanned scanned() {
        return SlideScanned.newBuilder()
                .setSlideId("slide-001")
                .setUri("/data/inbox/slide-001.svs")
                .setScannedAt(SCANNED_AT)
                .setScannerId("aperio-gt450-1")
                .setStain("H&E")
                .setAttributes(Map.of("magnification", "40x"))
                .build();
    }

    static SlideResult result() {
        return SlideResult.newBuilder()
                .setSlideId("slide-001")
                .setUri("/data/inbox/slide-001.svs")
                .setModelId("gpfm-tiny@abc123")
                .setComplete(true)
                .setTileCount(3)
                .setTilesReceived(3)
                .setLevel(0)
                .setTilePx(256)
                .setMpp(0.5)
                .setScannedAt(SCANNED_AT)
                .setCompletedAt(ONE_MINUTE_LATER)
                .setLogits(List.of(0.25f, -1.5f))
                .setProbabilities(List.of(0.85f, 0.15f))
                .setPredictedClass(0)
                .setMeanEmbedding(List.of(0.1f, 0.2f, 0.3f))
                .setTissueComposition(List.of(new ClassFraction("tumor", 0.75f)))
                .setTopTiles(List.of(new AttentionTile(256L, 512L, 0.6f)))
                .build();
    }

    static SlideFailed failed() {
        return SlideFailed.newBuilder()
                .setSlideId("slide-002")
                .setUri("/data/inbox/slide-002.svs")
                .setCode(ErrorCode.CORRUPT_SLIDE.name())
                .setMessage("bad JPEG in tile 3")
                .setStage("read")
                .setFailedAt(ONE_MINUTE_LATER)
                .build();
    }

    @Test
    void roundTripsEveryEventThroughAvroBinary() throws Exception {
        assertThat(AvroCodec.SLIDE_SCANNED.decode(AvroCodec.SLIDE_SCANNED.encode(scanned())))
                .isEqualTo(scanned());
        assertThat(AvroCodec.SLIDE_RESULT.decode(AvroCodec.SLIDE_RESULT.encode(result())))
                .isEqualTo(result());
        assertThat(AvroCodec.SLIDE_FAILED.decode(AvroCodec.SLIDE_FAILED.encode(failed())))
                .isEqualTo(failed());
    }

    @Test
    void roundTripsEveryEventThroughPlainJson() throws Exception {
        assertThat(AvroCodec.SLIDE_SCANNED.fromJson(AvroCodec.SLIDE_SCANNED.toJson(scanned())))
                .isEqualTo(scanned());
        assertThat(AvroCodec.SLIDE_RESULT.fromJson(AvroCodec.SLIDE_RESULT.toPrettyJson(result())))
                .isEqualTo(result());
        assertThat(AvroCodec.SLIDE_FAILED.fromJson(AvroCodec.SLIDE_FAILED.toJson(failed())))
                .isEqualTo(failed());
    }

    @Test
    void writesTimestampsAsIsoInstantsAndOptionalFieldsAsPlainValues() {
        String json = AvroCodec.SLIDE_SCANNED.toJson(scanned());
        assertThat(json)
                .isEqualTo(
                        "{\"slide_id\":\"slide-001\",\"uri\":\"/data/inbox/slide-001.svs\","
                                + "\"scanned_at\":\"2026-11-22T10:00:00Z\",\"scanner_id\":\"aperio-gt450-1\","
                                + "\"case_id\":null,\"stain\":\"H&E\",\"organ\":null,"
                                + "\"attributes\":{\"magnification\":\"40x\"}}");
    }

    @Test
    void readsHandWrittenJsonWithOptionalFieldsLeftOutAndEpochMillis() throws Exception {
        SlideScanned event =
                AvroCodec.SLIDE_SCANNED.fromJson(
                        "{\"slide_id\":\"s1\",\"uri\":\"/data/s1.svs\","
                                + "\"scanned_at\":"
                                + SCANNED_AT.toEpochMilli()
                                + ",\"scanner_id\":\"cli\"}");
        assertThat(event.getSlideId()).isEqualTo("s1");
        assertThat(event.getScannedAt()).isEqualTo(SCANNED_AT);
        assertThat(event.getCaseId()).isNull();
        assertThat(event.getAttributes()).isEmpty();
    }

    @Test
    void rejectsJsonWithAMissingRequiredField() {
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.fromJson(
                                        "{\"slide_id\":\"s1\",\"scanned_at\":0,\"scanner_id\":\"cli\"}"))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("required field 'uri' is missing");
    }

    @Test
    void rejectsJsonWithAnUnknownFieldAndNamesTheKnownOnes() {
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.fromJson(
                                        "{\"slide_id\":\"s1\",\"uri\":\"/a.svs\",\"scanned_at\":0,"
                                                + "\"scanner_id\":\"cli\",\"scaner\":\"x\"}"))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("unknown field(s) [scaner]")
                .hasMessageContaining("scanner_id");
    }

    @Test
    void rejectsJsonWithAWrongTypeOrABadInstant() {
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.fromJson(
                                        "{\"slide_id\":7,\"uri\":\"/a.svs\",\"scanned_at\":0,\"scanner_id\":\"c\"}"))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("field 'slide_id' must be a string, not 7");
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.fromJson(
                                        "{\"slide_id\":\"s\",\"uri\":\"/a.svs\",\"scanned_at\":\"yesterday\",\"scanner_id\":\"c\"}"))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("\"yesterday\" is not an ISO-8601 instant");
    }

    @Test
    void rejectsTextThatIsNotJson() {
        assertThatThrownBy(() -> AvroCodec.SLIDE_SCANNED.fromJson("{\"slide_id\": "))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("not valid JSON for SlideScanned");
    }

    @Test
    void rejectsAnEmptyValue() {
        assertThatThrownBy(() -> AvroCodec.SLIDE_SCANNED.decode(new byte[0]))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("the value is empty")
                .extracting(e -> ((MalformedEventException) e).code())
                .isEqualTo(ErrorCode.MALFORMED_EVENT);
    }

    @Test
    void rejectsATruncatedBinaryEvent() {
        byte[] bytes = AvroCodec.SLIDE_SCANNED.encode(scanned());
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.decode(
                                        Arrays.copyOf(bytes, bytes.length / 2)))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("ends before a whole Avro binary SlideScanned");
    }

    @Test
    void rejectsTrailingBytesAfterABinaryEvent() {
        byte[] bytes = AvroCodec.SLIDE_SCANNED.encode(scanned());
        assertThatThrownBy(
                        () ->
                                AvroCodec.SLIDE_SCANNED.decode(
                                        Arrays.copyOf(bytes, bytes.length + 3)))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("has 3 bytes after a whole Avro binary SlideScanned");
    }

    @Test
    void rejectsAGarbageLengthPrefixWithoutAllocatingIt() {
        // Zig-zag varint for a string of about 1 GiB, followed by a few bytes.
        byte[] garbage = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 'a', 'b'};
        assertThatThrownBy(() -> AvroCodec.SLIDE_SCANNED.decode(garbage))
                .isInstanceOf(MalformedEventException.class);
    }

    /**
     * EventDecodersFuzzTest's finding: Avro's decoder reads zeros past the end of the bytes, so a
     * map declaring billions of empty entries in 30 bytes filled the heap ("Out of memory"). The
     * record is now walked against the bytes first.
     */
    @Test
    void rejectsAMapDeclaringMoreEntriesThanTheRecordHasBytes() {
        byte[] finding = {
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            4,
            (byte) 0xfe,
            (byte) 0xfd,
            (byte) 0xfd,
            (byte) 0xfd,
            (byte) 0xfd,
            (byte) 0xfd,
            2,
            2,
            2,
            2,
            2,
            2,
            2,
            0,
            0
        };
        assertThatThrownBy(() -> AvroCodec.SLIDE_SCANNED.decodeBinaryOrJson(finding))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("ends before a whole Avro binary SlideScanned")
                .hasMessageContaining("map declares");
        // Three strings, a timestamp, a null case, stain and organ, then a map of 2^40 entries.
        byte[] bomb = {
            2,
            'a',
            2,
            'b',
            2,
            2,
            'c',
            0,
            0,
            0,
            (byte) 0x80,
            (byte) 0x80,
            (byte) 0x80,
            (byte) 0x80,
            (byte) 0x80,
            0x40,
            0
        };
        assertThatThrownBy(() -> AvroCodec.SLIDE_SCANNED.decode(bomb))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("map declares");
    }

    @Test
    void neverThrowsUncheckedForRandomBytes() {
        Random random = new Random(42);
        for (int i = 0; i < 5_000; i++) {
            byte[] bytes = new byte[1 + random.nextInt(64)];
            random.nextBytes(bytes);
            try {
                AvroCodec.SLIDE_SCANNED.decodeBinaryOrJson(bytes);
            } catch (MalformedEventException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    @Test
    void decodesEitherBinaryOrJsonByTheFirstByte() throws Exception {
        byte[] json =
                ("  " + AvroCodec.SLIDE_SCANNED.toJson(scanned())).getBytes(StandardCharsets.UTF_8);
        assertThat(AvroCodec.looksLikeJson(json)).isTrue();
        assertThat(AvroCodec.SLIDE_SCANNED.decodeBinaryOrJson(json)).isEqualTo(scanned());
        byte[] binary = AvroCodec.SLIDE_SCANNED.encode(scanned());
        assertThat(AvroCodec.looksLikeJson(binary)).isFalse();
        assertThat(AvroCodec.SLIDE_SCANNED.decodeBinaryOrJson(binary)).isEqualTo(scanned());
    }

    @Test
    void readsBytesWrittenWithAnOlderSchemaFillingDefaults() throws Exception {
        // An older SlideScanned without the optional organ and attributes fields.
        Schema old =
                SchemaBuilder.record("SlideScanned")
                        .namespace("io.slidestream.schemas.avro")
                        .fields()
                        .requiredString("slide_id")
                        .requiredString("uri")
                        .requiredLong("scanned_at")
                        .requiredString("scanner_id")
                        .optionalString("case_id")
                        .optionalString("stain")
                        .endRecord();
        GenericRecord written = new GenericData.Record(old);
        written.put("slide_id", "s1");
        written.put("uri", "/a.svs");
        written.put("scanned_at", SCANNED_AT.toEpochMilli());
        written.put("scanner_id", "old-scanner");
        written.put("stain", "H&E");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(old).write(written, encoder);
        encoder.flush();

        SlideScanned read = AvroCodec.SLIDE_SCANNED.withWriterSchema(old).decode(out.toByteArray());
        assertThat(read.getScannerId()).isEqualTo("old-scanner");
        assertThat(read.getScannedAt()).isEqualTo(SCANNED_AT);
        assertThat(read.getOrgan()).isNull();
        assertThat(read.getAttributes()).isEmpty();
    }

    @Test
    void rejectsAnOlderSchemaThatLacksARequiredFieldWithATypedError() {
        Schema old =
                SchemaBuilder.record("SlideFailed")
                        .namespace("io.slidestream.schemas.avro")
                        .fields()
                        .requiredString("slide_id")
                        .endRecord();
        AvroCodec<SlideFailed> codec = AvroCodec.SLIDE_FAILED.withWriterSchema(old);
        assertThat(codec.writerSchema()).isEqualTo(old);
        assertThatThrownBy(() -> codec.decode(new byte[] {2, 'a'}))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("missing required field");
    }

    @Test
    void refusesToEncodeARecordWithARequiredFieldUnset() {
        SlideFailed broken = failed();
        broken.setMessage(null);
        assertThatThrownBy(() -> AvroCodec.SLIDE_FAILED.encode(broken))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Cannot encode SlideFailed");
    }

    @Test
    void copiesDeeply() {
        SlideResult original = result();
        SlideResult copy = AvroCodec.SLIDE_RESULT.copy(original);
        assertThat(copy).isEqualTo(original).isNotSameAs(original);
        assertThat(copy.getTopTiles().get(0)).isNotSameAs(original.getTopTiles().get(0));
    }
}
