package io.slidestream.types;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.StringUtils;
import org.junit.jupiter.api.Test;

/**
 * Flink handles every Avro event of the stream through flink-avro, never Kryo: type extraction
 * yields flink-avro's {@link AvroTypeInfo} without any registration (function outputs, POJO fields,
 * {@code Either}), the serializers round-trip the events (timestamp-millis {@link Instant}s, maps,
 * nested records, a full-size embedding) with generic types off, and their snapshots restore.
 */
class SlideStreamTypesTest {
    /** Millisecond precision: the events' timestamps are Avro timestamp-millis. */
    static final Instant SCANNED_AT = Instant.parse("2026-11-22T10:00:00.123Z");

    @Test
    void extractsFlinkAvroTypeInformationForEveryEventWithoutRegistration() {
        Map<Class<?>, TypeInformation<?>> constants =
                Map.of(
                        SlideScanned.class, SlideStreamTypes.SLIDE_SCANNED,
                        SlideResult.class, SlideStreamTypes.SLIDE_RESULT,
                        SlideFailed.class, SlideStreamTypes.SLIDE_FAILED);
        constants.forEach(
                (event, constant) -> {
                    TypeInformation<?> extracted = TypeExtractor.createTypeInfo(event);
                    assertThat(extracted)
                            .isInstanceOf(AvroTypeInfo.class)
                            .isNotInstanceOf(GenericTypeInfo.class)
                            .isEqualTo(constant);
                    assertThat(extracted.getTypeClass()).isEqualTo(event);
                    assertThat(constant.createSerializer(noGenericTypes()))
                            .isInstanceOf(AvroSerializer.class);
                });
    }

    @Test
    void extractsAvroTypesForLambdaOutputsPojoFieldsAndEitherWithGenericTypesOff() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        DataStream<String> ids = env.fromData("slide-001", "slide-002");

        DataStream<SlideScanned> scanned = ids.map(SlideStreamTypesTest::scanned);
        DataStream<SlideResult> results = ids.map(id -> result(id, List.of()));
        DataStream<ScannedEnvelope> envelopes = scanned.map(ScannedEnvelope::new);
        DataStream<Either<SlideFailed, SlideScanned>> decoded =
                scanned.map(
                        new MapFunction<SlideScanned, Either<SlideFailed, SlideScanned>>() {
                            @Override
                            public Either<SlideFailed, SlideScanned> map(SlideScanned event) {
                                return Either.Right(event);
                            }
                        });
        scanned.print();
        results.print();
        envelopes.print();
        decoded.print();

        assertThat(scanned.getType()).isEqualTo(SlideStreamTypes.SLIDE_SCANNED);
        assertThat(results.getType()).isEqualTo(SlideStreamTypes.SLIDE_RESULT);
        assertThat(envelopes.getType()).isInstanceOf(PojoTypeInfo.class);
        assertThat(((PojoTypeInfo<ScannedEnvelope>) envelopes.getType()).getTypeAt("event"))
                .isEqualTo(SlideStreamTypes.SLIDE_SCANNED);
        assertThat(decoded.getType())
                .isInstanceOf(EitherTypeInfo.class)
                .isEqualTo(SlideStreamTypes.DECODED_EVENT);
        // Building the job graph creates every serializer: it fails on any Kryo fallback.
        assertThat(env.getStreamGraph().getJobGraph().getNumberOfVertices()).isPositive();
    }

    @Test
    void roundTripsEveryEventThroughItsSerializerWithGenericTypesOff() throws IOException {
        List<Float> embedding = new ArrayList<>();
        for (int i = 0; i < 1024; i++) {
            embedding.add((float) Math.sin(i));
        }
        assertRoundTrips(SlideStreamTypes.SLIDE_SCANNED, scanned("slide-001"), fullScanned());
        assertRoundTrips(
                SlideStreamTypes.SLIDE_RESULT,
                result("slide-001", embedding),
                result("slide-002", List.of()));
        assertRoundTrips(SlideStreamTypes.SLIDE_FAILED, failed());

        SlideScanned read = roundTrip(SlideStreamTypes.SLIDE_SCANNED, fullScanned());
        assertThat(read.getScannedAt()).isEqualTo(SCANNED_AT);
        assertThat(read.getAttributes()).containsEntry("magnification", "40x");
        assertThat(roundTrip(SlideStreamTypes.SLIDE_RESULT, result("slide-001", embedding)))
                .satisfies(
                        r -> assertThat(r.getCompletedAt()).isEqualTo(SCANNED_AT.plusSeconds(30)))
                .satisfies(r -> assertThat(r.getMeanEmbedding()).isEqualTo(embedding));
    }

    @Test
    void serializesTheDecodedEventEnvelopeWithoutKryo() throws IOException {
        Either<SlideFailed, SlideScanned> right = Either.Right(fullScanned());
        Either<SlideFailed, SlideScanned> left = Either.Left(failed());
        assertRoundTrips(SlideStreamTypes.DECODED_EVENT, right, left);
    }

    @Test
    void restoresTheSerializerFromItsSnapshotAsCompatibleAsIs() throws IOException {
        TypeSerializer<SlideResult> serializer =
                SlideStreamTypes.SLIDE_RESULT.createSerializer(noGenericTypes());
        TypeSerializerSnapshot<SlideResult> restored =
                writeAndRead(serializer.snapshotConfiguration());

        assertThat(
                        serializer
                                .snapshotConfiguration()
                                .resolveSchemaCompatibility(restored)
                                .isCompatibleAsIs())
                .isTrue();
        SlideResult record = result("slide-001", List.of(0.25f, -1f));
        DataOutputSerializer out = new DataOutputSerializer(1024);
        serializer.serialize(record, out);
        assertThat(
                        restored.restoreSerializer()
                                .deserialize(new DataInputDeserializer(out.getCopyOfBuffer())))
                .isEqualTo(record);
    }

    @Test
    void migratesStateOfACompatibleOlderSchemaAndRefusesAnIncompatibleOne() throws IOException {
        TypeSerializerSnapshot<SlideFailed> current =
                SlideStreamTypes.SLIDE_FAILED
                        .createSerializer(noGenericTypes())
                        .snapshotConfiguration();
        // A field since removed: Avro schema resolution skips it.
        Schema withRetiredField =
                failedSchema()
                        .requiredString("message")
                        .requiredString("stage")
                        .requiredString("retired_field")
                        .endRecord();
        // No "message" and no "stage", which have no defaults: not readable with today's class.
        Schema missingRequiredFields = failedSchema().endRecord();

        assertThat(
                        current.resolveSchemaCompatibility(olderSnapshot(withRetiredField))
                                .isCompatibleAfterMigration())
                .isTrue();
        assertThat(
                        current.resolveSchemaCompatibility(olderSnapshot(missingRequiredFields))
                                .isIncompatible())
                .isTrue();
    }

    /** A POJO holding an event, as a stream record type of the job might. */
    public static class ScannedEnvelope {
        public String source;
        public SlideScanned event;

        public ScannedEnvelope() {}

        ScannedEnvelope(SlideScanned event) {
            this.source = "test";
            this.event = event;
        }

        @Override
        public String toString() {
            return source + ":" + event;
        }
    }

    private static SchemaBuilder.FieldAssembler<Schema> failedSchema() {
        return SchemaBuilder.record("SlideFailed")
                .namespace("io.slidestream.schemas.avro")
                .fields()
                .requiredString("slide_id")
                .requiredString("uri")
                .requiredString("code")
                .name("failed_at")
                .type(
                        org.apache.avro.LogicalTypes.timestampMillis()
                                .addToSchema(Schema.create(Schema.Type.LONG)))
                .noDefault();
    }

    /**
     * The serializer snapshot of a savepoint taken when the event's schema was {@code
     * writerSchema}: class name and writer schema, as flink-avro writes them (snapshot version 3).
     * flink-avro builds such a snapshot only from the class's current schema, so it is read here
     * from those bytes.
     */
    private static TypeSerializerSnapshot<SlideFailed> olderSnapshot(Schema writerSchema)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        StringUtils.writeString(SlideFailed.class.getName(), out);
        StringUtils.writeString(writerSchema.toString(), out);
        AvroSerializerSnapshot<SlideFailed> snapshot = new AvroSerializerSnapshot<>();
        snapshot.readSnapshot(
                3,
                new DataInputDeserializer(out.getCopyOfBuffer()),
                SlideStreamTypesTest.class.getClassLoader());
        return snapshot;
    }

    @SafeVarargs
    private static <T> void assertRoundTrips(TypeInformation<T> type, T... records)
            throws IOException {
        TypeSerializer<T> serializer = type.createSerializer(noGenericTypes());
        DataOutputSerializer out = new DataOutputSerializer(256);
        for (T record : records) {
            serializer.serialize(record, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (T record : records) {
            assertThat(serializer.deserialize(in)).isEqualTo(record);
            assertThat(serializer.copy(record)).isEqualTo(record);
        }
        assertThat(in.available()).isZero();
    }

    private static <T> T roundTrip(TypeInformation<T> type, T record) throws IOException {
        TypeSerializer<T> serializer = type.createSerializer(noGenericTypes());
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(record, out);
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    private static <T> TypeSerializerSnapshot<T> writeAndRead(TypeSerializerSnapshot<T> snapshot)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()),
                SlideStreamTypesTest.class.getClassLoader());
    }

    private static SerializerConfigImpl noGenericTypes() {
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        return config;
    }

    static SlideScanned scanned(String id) {
        return SlideScanned.newBuilder()
                .setSlideId(id)
                .setUri("/data/" + id + ".svs")
                .setScannedAt(SCANNED_AT)
                .setScannerId("aperio-1")
                .build();
    }

    static SlideScanned fullScanned() {
        return SlideScanned.newBuilder()
                .setSlideId("slide-002")
                .setUri("file:///data/slide-002.ndpi")
                .setScannedAt(SCANNED_AT)
                .setScannerId("hamamatsu-1")
                .setCaseId("case-7")
                .setStain("H&E")
                .setOrgan("colon")
                .setAttributes(Map.of("magnification", "40x", "operator", "jd"))
                .build();
    }

    static SlideFailed failed() {
        return new SlideFailed(
                "kafka:slides.scanned:0:42",
                "",
                ErrorCode.MALFORMED_EVENT.name(),
                "the value is empty",
                "decode",
                SCANNED_AT.plusMillis(1),
                "gpfm-test");
    }

    static SlideResult result(String id, List<Float> embedding) {
        boolean complete = !embedding.isEmpty();
        return SlideResult.newBuilder()
                .setSlideId(id)
                .setUri("/data/" + id + ".svs")
                .setModelId("gpfm-tiny@0f3c")
                .setComplete(complete)
                .setTileCount(12)
                .setTilesReceived(complete ? 12 : 7)
                .setLevel(0)
                .setTilePx(256)
                .setMpp(0.5)
                .setScannedAt(SCANNED_AT)
                .setCompletedAt(SCANNED_AT.plusSeconds(30))
                .setLogits(complete ? List.of(1.5f, -0.5f) : List.of())
                .setProbabilities(complete ? List.of(0.88f, 0.12f) : List.of())
                .setPredictedClass(complete ? 0 : -1)
                .setMeanEmbedding(embedding)
                .setTissueComposition(
                        List.of(
                                new ClassFraction("tumor", 0.5f),
                                new ClassFraction("stroma", 0.5f)))
                .setTopTiles(List.of(new AttentionTile(0L, 256L, 0.4f)))
                .build();
    }
}
