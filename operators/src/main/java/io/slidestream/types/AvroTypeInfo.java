package io.slidestream.types;

import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Flink type information for a generated Avro event class ({@code SlideScanned}, {@code
 * SlideResult}, {@code SlideFailed}), serialized with {@link AvroSerializer} (Avro binary, length
 * prefixed). It stands in for flink-avro's {@code AvroTypeInfo}, which has no release for Flink
 * 2.1.2: without it Flink would either fail to extract these classes or fall back to Kryo, which
 * the job switches off ({@code pipeline.generic-types: false}).
 *
 * <p>Not a key type: keys are the slide id string, never the whole event.
 */
public final class AvroTypeInfo<T extends SpecificRecord> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;

    public AvroTypeInfo(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new AvroSerializer<>(type);
    }

    @Override
    public String toString() {
        return "AvroTypeInfo<" + type.getName() + ">";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof AvroTypeInfo
                && ((AvroTypeInfo<?>) obj).canEqual(this)
                && ((AvroTypeInfo<?>) obj).type.equals(type);
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof AvroTypeInfo;
    }
}
