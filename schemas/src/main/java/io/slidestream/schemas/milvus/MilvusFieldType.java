package io.slidestream.schemas.milvus;

/**
 * The Milvus data types SlideStream's collections use, named independently of the client library so
 * that {@code schemas} stays free of it; the sinks map each to the SDK's {@code DataType}.
 */
public enum MilvusFieldType {
    INT64,
    INT32,
    FLOAT,
    DOUBLE,
    BOOL,
    VARCHAR,
    /** A dense float vector; its dimension comes from the model, not from the schema. */
    FLOAT_VECTOR,
    /** A variable-length array of floats (head probabilities), at most {@code maxCapacity}. */
    FLOAT_ARRAY
}
