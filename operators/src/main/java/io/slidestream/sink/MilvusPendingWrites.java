package io.slidestream.sink;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The writes a {@link MilvusUpsertWriter} had not yet sent when a checkpoint was taken: entities to
 * upsert (as their JSON) and keys to delete. Kept in the checkpoint, so that a checkpoint completes
 * while Milvus is away, and sent first after a restore.
 *
 * @param upserts entities by primary key, in arrival order
 * @param deletes primary keys to delete (none of them in {@code upserts})
 */
public record MilvusPendingWrites(Map<Long, JsonObject> upserts, List<Long> deletes) {

    /** Version 1: upsert count, (key, UTF-8 JSON length, JSON) each, delete count, keys. */
    public static final class Serializer implements SimpleVersionedSerializer<MilvusPendingWrites> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(MilvusPendingWrites pending) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(pending.upserts().size());
                for (Map.Entry<Long, JsonObject> e : pending.upserts().entrySet()) {
                    out.writeLong(e.getKey());
                    byte[] json = e.getValue().toString().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(json.length);
                    out.write(json);
                }
                out.writeInt(pending.deletes().size());
                for (long key : pending.deletes()) {
                    out.writeLong(key);
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public MilvusPendingWrites deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("unknown version " + version + " of Milvus pending writes");
            }
            try (DataInputStream in =
                    new DataInputStream(new java.io.ByteArrayInputStream(serialized))) {
                int upsertCount = in.readInt();
                Map<Long, JsonObject> upserts = new LinkedHashMap<>();
                for (int i = 0; i < upsertCount; i++) {
                    long key = in.readLong();
                    byte[] json = new byte[in.readInt()];
                    in.readFully(json);
                    upserts.put(
                            key,
                            JsonParser.parseString(new String(json, StandardCharsets.UTF_8))
                                    .getAsJsonObject());
                }
                int deleteCount = in.readInt();
                List<Long> deletes = new ArrayList<>(deleteCount);
                for (int i = 0; i < deleteCount; i++) {
                    deletes.add(in.readLong());
                }
                return new MilvusPendingWrites(upserts, deletes);
            }
        }
    }
}
