/**
 * Serde next to the event types: {@link io.slidestream.schemas.serde.AvroCodec} encodes the Avro
 * events as Avro binary (the wire form on Kafka) and as plain JSON (for people and for {@code
 * kafka-console-producer}); {@link io.slidestream.schemas.serde.SlideScannedRules} checks what a
 * decoded {@code SlideScanned} must satisfy. Free of Flink classes: the Flink type information that
 * wraps these codecs lives in {@code io.slidestream.types} (operators).
 */
package io.slidestream.schemas.serde;
