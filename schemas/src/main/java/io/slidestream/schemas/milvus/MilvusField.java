package io.slidestream.schemas.milvus;

/**
 * One field of a Milvus collection.
 *
 * @param name the field name, shared with the Iceberg column of the same meaning
 * @param type the Milvus type
 * @param maxLength the maximum UTF-8 length of a {@link MilvusFieldType#VARCHAR}, else 0
 * @param maxCapacity the maximum element count of a {@link MilvusFieldType#FLOAT_ARRAY}, else 0
 * @param primaryKey whether this is the (Int64, not auto-generated) primary key
 * @param description what the field holds
 */
public record MilvusField(
        String name,
        MilvusFieldType type,
        int maxLength,
        int maxCapacity,
        boolean primaryKey,
        String description) {

    static MilvusField primaryKey(String name, String description) {
        return new MilvusField(name, MilvusFieldType.INT64, 0, 0, true, description);
    }

    static MilvusField of(String name, MilvusFieldType type, String description) {
        return new MilvusField(name, type, 0, 0, false, description);
    }

    static MilvusField varchar(String name, int maxLength, String description) {
        return new MilvusField(name, MilvusFieldType.VARCHAR, maxLength, 0, false, description);
    }

    static MilvusField floatArray(String name, int maxCapacity, String description) {
        return new MilvusField(
                name, MilvusFieldType.FLOAT_ARRAY, 0, maxCapacity, false, description);
    }
}
