/**
 * Flink type information for the Avro events ({@link io.slidestream.types.SlideStreamTypes}), built
 * on the Avro binary codec in {@code schemas}, because flink-avro has no release for Flink 2.1.2
 * and generic (Kryo) serialization is switched off in the job.
 */
package io.slidestream.types;
