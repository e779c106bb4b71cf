/**
 * The Flink type information of the Avro events ({@link io.slidestream.types.SlideStreamTypes}):
 * flink-avro's {@code AvroTypeInfo} and {@code AvroSerializer}, so the events never fall back to
 * generic (Kryo) serialization, which the job switches off.
 */
package io.slidestream.types;
