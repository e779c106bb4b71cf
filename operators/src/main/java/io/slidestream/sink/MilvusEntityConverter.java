package io.slidestream.sink;

import com.google.gson.JsonObject;
import io.slidestream.schemas.milvus.MilvusCollection;
import java.io.Serializable;

/**
 * Turns one stream record into one Milvus entity of a {@link MilvusCollection}, keyed
 * deterministically so that an upsert of a replayed record overwrites its earlier copy.
 *
 * @param <T> the record type
 */
public interface MilvusEntityConverter<T> extends Serializable {

    /** The collection the entities belong to. */
    MilvusCollection collection();

    /** The length of the record's vector; 0 when it has none and cannot be stored. */
    int dimension(T record);

    /** The record's primary key in {@link #collection()}. */
    long key(T record);

    /** True when the record asks to delete its key instead of writing an entity. */
    default boolean removes(T record) {
        return false;
    }

    /** The entity: every field of {@link #collection()}, the primary key included. */
    JsonObject toEntity(T record);

    /** A short description of the record for log and error messages. */
    String describe(T record);
}
