package io.slidestream.types;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.types.Either;

/**
 * The Flink types of the Avro events that flow through the job, none of them Kryo:
 *
 * <ul>
 *   <li>{@link #SLIDE_SCANNED}: decoded events from {@code slides.scanned};
 *   <li>{@link #SLIDE_FAILED}: dead letters (side outputs, {@code slides.dead-letter});
 *   <li>{@link #SLIDE_RESULT}: the slide aggregate's output ({@code slides.results});
 *   <li>{@link #DECODED_EVENT}: what the Kafka source emits, {@code Either<SlideFailed,
 *       SlideScanned>} (Flink's own {@link EitherTypeInfo}: left is a record that could not be
 *       decoded).
 * </ul>
 *
 * <p>Use the constants where a type is given explicitly ({@code returns(...)}, {@code OutputTag},
 * state descriptors), and call {@link #register(Configuration)} on the job's configuration before
 * creating the environment so that type extraction finds them everywhere else.
 */
public final class SlideStreamTypes {
    public static final TypeInformation<SlideScanned> SLIDE_SCANNED =
            new AvroTypeInfo<>(SlideScanned.class);
    public static final TypeInformation<SlideFailed> SLIDE_FAILED =
            new AvroTypeInfo<>(SlideFailed.class);
    public static final TypeInformation<SlideResult> SLIDE_RESULT =
            new AvroTypeInfo<>(SlideResult.class);
    public static final TypeInformation<Either<SlideFailed, SlideScanned>> DECODED_EVENT =
            new EitherTypeInfo<>(SLIDE_FAILED, SLIDE_SCANNED);

    private static final List<Class<?>> AVRO_EVENTS =
            List.of(SlideScanned.class, SlideResult.class, SlideFailed.class);

    private SlideStreamTypes() {}

    /**
     * The {@code pipeline.serialization-config} entries that map each Avro event class to {@link
     * AvroTypeInfoFactory}, e.g. {@code io.slidestream.schemas.avro.SlideScanned: {type: typeinfo,
     * class: io.slidestream.types.AvroTypeInfoFactory}}. A Flink cluster can carry the same lines
     * in its configuration file.
     */
    public static List<String> serializationConfig() {
        List<String> entries = new ArrayList<>();
        for (Class<?> event : AVRO_EVENTS) {
            entries.add(
                    event.getName()
                            + ": {type: typeinfo, class: "
                            + AvroTypeInfoFactory.class.getName()
                            + "}");
        }
        return entries;
    }

    /**
     * Adds {@link #serializationConfig()} to {@code config}'s {@code
     * pipeline.serialization-config}, keeping entries already there; entries for these classes are
     * not added twice.
     */
    public static Configuration register(Configuration config) {
        List<String> entries =
                new ArrayList<>(
                        config.getOptional(PipelineOptions.SERIALIZATION_CONFIG).orElse(List.of()));
        for (String entry : serializationConfig()) {
            String className = entry.substring(0, entry.indexOf(':'));
            if (entries.stream().noneMatch(e -> e.trim().startsWith(className + ":"))) {
                entries.add(entry);
            }
        }
        config.set(PipelineOptions.SERIALIZATION_CONFIG, entries);
        return config;
    }
}
