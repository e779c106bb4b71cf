/**
 * The job's input side: {@link io.slidestream.source.SlideScannedSource} (the KafkaSource of {@code
 * slides.scanned}), {@link io.slidestream.source.SlideScannedDeserializer} (Avro binary or JSON
 * values, bad records to dead letters) and {@link io.slidestream.source.DecodedEventRouter} (events
 * on, dead letters to a side output).
 */
package io.slidestream.source;
