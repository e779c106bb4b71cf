package io.slidestream.types;

import io.slidestream.schemas.serde.AvroCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What a savepoint records about an {@link AvroSerializer}: the event class and the Avro schema the
 * state was written with. On restore the new serializer is:
 *
 * <ul>
 *   <li>compatible as is when the schema is unchanged;
 *   <li>compatible after migration when Avro can read the old schema with the new one (fields added
 *       with defaults, fields removed, widened numbers): Flink reads the old state through {@link
 *       #restoreSerializer()} and rewrites it;
 *   <li>incompatible otherwise, and the job refuses to start rather than misread state.
 * </ul>
 */
public final class AvroSerializerSnapshot<T extends SpecificRecord>
        implements TypeSerializerSnapshot<T> {
    private static final int VERSION = 1;

    private Class<T> type;
    private Schema schema;

    /**
     * For Flink, which instantiates snapshots reflectively and then calls {@link #readSnapshot}.
     */
    public AvroSerializerSnapshot() {}

    AvroSerializerSnapshot(Class<T> type, Schema schema) {
        this.type = type;
        this.schema = schema;
    }

    @Override
    public int getCurrentVersion() {
        return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
        out.writeUTF(type.getName());
        // Not writeUTF: a schema with docs can exceed its 64 KiB limit.
        byte[] json = schema.toString().getBytes(StandardCharsets.UTF_8);
        out.writeInt(json.length);
        out.write(json);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader)
            throws IOException {
        if (readVersion != VERSION) {
            throw new IOException(
                    "AvroSerializerSnapshot version " + readVersion + " is unknown (expected 1)");
        }
        String className = in.readUTF();
        byte[] json = new byte[in.readInt()];
        in.readFully(json);
        try {
            type = (Class<T>) Class.forName(className, false, classLoader);
        } catch (ClassNotFoundException e) {
            throw new IOException(
                    "The savepoint holds Avro state of class "
                            + className
                            + ", which is not on the classpath",
                    e);
        }
        schema = new Schema.Parser().parse(new String(json, StandardCharsets.UTF_8));
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
        return new AvroSerializer<>(AvroCodec.of(type).withWriterSchema(schema));
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(
            TypeSerializerSnapshot<T> oldSnapshot) {
        if (!(oldSnapshot instanceof AvroSerializerSnapshot)) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        AvroSerializerSnapshot<T> old = (AvroSerializerSnapshot<T>) oldSnapshot;
        if (!old.type.getName().equals(type.getName())) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        if (old.schema.equals(schema)) {
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        SchemaCompatibility.SchemaCompatibilityType result =
                SchemaCompatibility.checkReaderWriterCompatibility(schema, old.schema).getType();
        return result == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE
                ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                : TypeSerializerSchemaCompatibility.incompatible();
    }

    Schema schema() {
        return schema;
    }
}
