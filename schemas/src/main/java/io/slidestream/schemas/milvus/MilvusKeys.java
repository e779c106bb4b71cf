package io.slidestream.schemas.milvus;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Derives the Int64 primary keys of the Milvus collections from what identifies a row, so that a
 * replayed record upserts over its earlier copy instead of adding a second entity.
 *
 * <p>Recipe (version 1, never changed once released - every stored key depends on it): build the
 * UTF-8 text {@code tile/v1|<len>:<slide_id>|<len>:<model_id>|<level>|<x>|<y>} (for a slide: {@code
 * slide/v1|<len>:<slide_id>|<len>:<model_id>}), where {@code <len>} is the UTF-8 byte length of the
 * string that follows, so no slide id can be mistaken for another; hash it with SHA-256; take the
 * first 8 bytes as a big-endian long and clear the sign bit. The same key can be computed in Python
 * or SQL to join Milvus entities with Iceberg rows (which also carry it).
 */
public final class MilvusKeys {

    private MilvusKeys() {}

    /** The primary key of one tile's entity in the {@code tiles} collection. */
    public static long tileKey(String slideId, String modelId, int level, long x, long y) {
        return key(
                "tile/v1|"
                        + prefixed(slideId)
                        + '|'
                        + prefixed(modelId)
                        + '|'
                        + level
                        + '|'
                        + x
                        + '|'
                        + y);
    }

    /** The primary key of one slide's entity in the {@code slides} collection. */
    public static long slideKey(String slideId, String modelId) {
        return key("slide/v1|" + prefixed(slideId) + '|' + prefixed(modelId));
    }

    private static String prefixed(String value) {
        if (value == null) {
            throw new IllegalArgumentException("slide_id and model_id are required for a key");
        }
        return value.getBytes(StandardCharsets.UTF_8).length + ":" + value;
    }

    private static long key(String material) {
        byte[] hash = sha256().digest(material.getBytes(StandardCharsets.UTF_8));
        long value = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            value = (value << 8) | (hash[i] & 0xFF);
        }
        return value & Long.MAX_VALUE;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide SHA-256 (java.security.MessageDigest contract).
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
