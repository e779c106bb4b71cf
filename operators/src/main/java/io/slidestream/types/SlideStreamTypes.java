package io.slidestream.types;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.api.java.typeutils.TypeExtractor;
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
 * state descriptors), and call {@link #register()} before building the graph so that type
 * extraction finds them everywhere else.
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
     * Makes Flink's type extraction use {@link AvroTypeInfo} for the Avro event classes in this JVM
     * (a function returning {@code SlideResult}, a POJO field of type {@code SlideScanned}, the
     * output of an operator test harness). Idempotent and thread-safe; the job calls it before it
     * builds the graph. Type extraction runs where the graph is built (the client), and the
     * serializers travel inside the job graph, so task managers need nothing.
     *
     * <p>Why not {@code pipeline.serialization-config}: Flink 2.1 feeds those entries into a
     * JVM-wide registry that refuses a second registration, so the second environment created in
     * one JVM (tests, the embedded demo) fails with "Could not configure serializers".
     */
    public static void register() {
        synchronized (SlideStreamTypes.class) {
            for (Class<?> event : AVRO_EVENTS) {
                if (TypeExtractor.getTypeInfoFactory(event) == null) {
                    TypeExtractor.registerFactory(event, AvroTypeInfoFactory.class);
                }
            }
        }
    }
}
