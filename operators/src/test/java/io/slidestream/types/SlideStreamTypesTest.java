package io.slidestream.types;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.IOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Flink handles every record type of the stream without Kryo: the type information is ours (not
 * {@link GenericTypeInfo}), its serializer round-trips with generic types disabled, and its
 * snapshot restores.
 */
class SlideStreamTypesTest {

    @BeforeAll
    static void registerLikeTheJob() {
        SlideStreamTypes.register();
    }

    @Test
    void extractsOwnTypeInformationForEveryAvroEvent() {
        for (Class<?> event : List.of(SlideScanned.class, SlideResult.class, SlideFailed.class)) {
            TypeInformation<?> info = TypeExtractor.createTypeInfo(event);
            assertThat(info)
                    .isInstanceOf(AvroTypeInfo.class)
                    .isNotInstanceOf(GenericTypeInfo.class);
            assertThat(info.getTypeClass()).isEqualTo(event);
        }
        assertThat(TypeExtractor.createTypeInfo(SlideScanned.class))
                .isEqualTo(SlideStreamTypes.SLIDE_SCANNED);
    }

    @Test
    void registeringAgainIsHarmless() {
        SlideStreamTypes.register();
        SlideStreamTypes.register();
        assertThat(TypeExtractor.createTypeInfo(SlideFailed.class))
                .isEqualTo(SlideStreamTypes.SLIDE_FAILED);
    }

    @Test
    void extractsAFunctionsAvroOutputType() {
        MapFunction<String, SlideResult> toResult = id -> new SlideResult();
        assertThat(TypeExtractor.getMapReturnTypes(toResult, Types.STRING))
                .isEqualTo(SlideStreamTypes.SLIDE_RESULT);
    }

    @Test
    void serializesTheDecodedEventEnvelopeWithoutKryo() throws IOException {
        SerializerConfigImpl noGenerics = new SerializerConfigImpl();
        noGenerics.setGenericTypes(false);
        TypeSerializer<Either<SlideFailed, SlideScanned>> serializer =
                SlideStreamTypes.DECODED_EVENT.createSerializer(noGenerics);
        Either<SlideFailed, SlideScanned> right =
                Either.Right(new SlideScannedSerializerTest().getTestData()[1]);
        Either<SlideFailed, SlideScanned> left =
                Either.Left(new SlideFailedSerializerTest().getTestData()[0]);

        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(right, out);
        serializer.serialize(left, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        assertThat(serializer.deserialize(in)).isEqualTo(right);
        assertThat(serializer.deserialize(in)).isEqualTo(left);
    }

    @Test
    void restoresTheSerializerFromItsSnapshotAsCompatible() throws IOException {
        AvroSerializer<SlideResult> serializer = new AvroSerializer<>(SlideResult.class);
        TypeSerializerSnapshot<SlideResult> restored =
                writeAndRead(serializer.snapshotConfiguration());

        assertThat(
                        serializer
                                .snapshotConfiguration()
                                .resolveSchemaCompatibility(restored)
                                .isCompatibleAsIs())
                .isTrue();
        SlideResult record = new SlideResultSerializerTest().getTestData()[0];
        DataOutputSerializer out = new DataOutputSerializer(8192);
        serializer.serialize(record, out);
        assertThat(
                        restored.restoreSerializer()
                                .deserialize(new DataInputDeserializer(out.getCopyOfBuffer())))
                .isEqualTo(record);
    }

    @Test
    void migratesStateWrittenWithACompatibleOlderSchema() throws IOException {
        Schema older =
                SchemaBuilder.record("SlideFailed")
                        .namespace("io.slidestream.schemas.avro")
                        .fields()
                        .requiredString("slide_id")
                        .requiredString("uri")
                        .requiredString("code")
                        .requiredString("message")
                        .requiredString("stage")
                        .requiredLong("failed_at")
                        .requiredString("retired_field")
                        .endRecord();
        TypeSerializerSnapshot<SlideFailed> old =
                writeAndRead(new AvroSerializerSnapshot<>(SlideFailed.class, older));
        TypeSerializerSchemaCompatibility<SlideFailed> compatibility =
                new AvroSerializer<>(SlideFailed.class)
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility(old);
        assertThat(compatibility.isCompatibleAfterMigration()).isTrue();
    }

    @Test
    void refusesStateWrittenWithAnIncompatibleSchema() throws IOException {
        Schema incompatible =
                SchemaBuilder.record("SlideFailed")
                        .namespace("io.slidestream.schemas.avro")
                        .fields()
                        .requiredString("slide_id")
                        .endRecord();
        TypeSerializerSnapshot<SlideFailed> old =
                writeAndRead(new AvroSerializerSnapshot<>(SlideFailed.class, incompatible));
        assertThat(
                        new AvroSerializer<>(SlideFailed.class)
                                .snapshotConfiguration()
                                .resolveSchemaCompatibility(old)
                                .isIncompatible())
                .isTrue();
    }

    private static <T> TypeSerializerSnapshot<T> writeAndRead(TypeSerializerSnapshot<T> snapshot)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()),
                SlideStreamTypesTest.class.getClassLoader());
    }
}
