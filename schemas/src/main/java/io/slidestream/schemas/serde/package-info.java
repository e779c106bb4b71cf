/**
 * Serde next to the event types: {@link io.slidestream.schemas.serde.AvroCodec} encodes the Avro
 * events as Avro binary (the wire form on Kafka) and as plain JSON (for people and for {@code
 * kafka-console-producer}); {@link io.slidestream.schemas.serde.SlideScannedRules} checks what a
 * decoded {@code SlideScanned} must satisfy. Free of Flink classes: inside a job the events are
 * Flink types through flink-avro ({@code AvroTypeInfo}; the constants are in {@code
 * io.slidestream.types.SlideStreamTypes}, operators), not through this codec.
 */
package io.slidestream.schemas.serde;
