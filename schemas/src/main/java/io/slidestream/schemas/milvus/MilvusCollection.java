package io.slidestream.schemas.milvus;

import java.util.List;

/**
 * The definition of one Milvus collection: its default name, its fields (exactly one Int64 primary
 * key and one float vector whose dimension D is supplied when the collection is created).
 *
 * @param defaultName the collection name unless configured otherwise
 * @param description what one entity is
 * @param fields every field, primary key first
 */
public record MilvusCollection(String defaultName, String description, List<MilvusField> fields) {

    public MilvusCollection {
        fields = List.copyOf(fields);
        if (fields.stream().filter(MilvusField::primaryKey).count() != 1) {
            throw new IllegalArgumentException(defaultName + ": exactly one primary key needed");
        }
        if (fields.stream().filter(f -> f.type() == MilvusFieldType.FLOAT_VECTOR).count() != 1) {
            throw new IllegalArgumentException(defaultName + ": exactly one vector field needed");
        }
    }

    /** The primary key field's name. */
    public String primaryField() {
        return fields.stream().filter(MilvusField::primaryKey).findFirst().orElseThrow().name();
    }

    /** The vector field's name. */
    public String vectorField() {
        return fields.stream()
                .filter(f -> f.type() == MilvusFieldType.FLOAT_VECTOR)
                .findFirst()
                .orElseThrow()
                .name();
    }

    /** Every field name, in schema order. */
    public List<String> fieldNames() {
        return fields.stream().map(MilvusField::name).toList();
    }
}
