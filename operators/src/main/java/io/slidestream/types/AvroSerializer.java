package io.slidestream.types;

import io.slidestream.schemas.serde.AvroCodec;
import java.io.IOException;
import java.util.Objects;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializes a generated Avro event between operators and into state: an int length followed by the
 * record's Avro binary (via {@link AvroCodec}). The length prefix makes {@link #copy(DataInputView,
 * DataOutputView)} a plain byte copy and keeps Avro's decoder from reading past the record.
 *
 * <p>State evolution: the snapshot ({@link AvroSerializerSnapshot}) stores the writer schema; a job
 * restored with a changed event class reads old state through Avro schema resolution when the
 * change is compatible (e.g. a new field with a default), and refuses to start otherwise.
 *
 * <p>Not thread-safe: it keeps reusable encode and decode buffers, so {@link #duplicate()} returns
 * a fresh instance, as Flink requires for stateful serializers.
 */
public final class AvroSerializer<T extends SpecificRecord> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;

    private final AvroCodec<T> codec;

    private transient ReusableBuffers buffers;

    public AvroSerializer(Class<T> type) {
        this(AvroCodec.of(type));
    }

    /** A serializer that reads bytes written with {@code codec}'s writer schema. */
    AvroSerializer(AvroCodec<T> codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    AvroCodec<T> codec() {
        return codec;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new AvroSerializer<>(codec);
    }

    @Override
    public T createInstance() {
        return codec.type().cast(SpecificData.newInstance(codec.type(), codec.schema()));
    }

    @Override
    public T copy(T from) {
        return codec.copy(from);
    }

    @Override
    public T copy(T from, T reuse) {
        return codec.copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        ReusableBuffers b = buffers();
        b.out.reset();
        codec.write(record, b.encoder());
        target.writeInt(b.out.size());
        target.write(b.out.array(), 0, b.out.size());
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        return deserialize(null, source);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        ReusableBuffers b = buffers();
        int length = source.readInt();
        byte[] bytes = b.readBuffer(length);
        source.readFully(bytes, 0, length);
        return codec.read(reuse, b.decoder(bytes, length));
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new AvroSerializerSnapshot<>(codec.type(), codec.schema());
    }

    private ReusableBuffers buffers() {
        if (buffers == null) {
            buffers = new ReusableBuffers();
        }
        return buffers;
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof AvroSerializer && ((AvroSerializer<?>) obj).codec.equals(codec);
    }

    @Override
    public int hashCode() {
        return codec.hashCode();
    }

    @Override
    public String toString() {
        return "AvroSerializer<" + codec.type().getName() + ">";
    }
}
