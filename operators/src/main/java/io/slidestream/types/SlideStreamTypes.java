package io.slidestream.types;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileTask;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
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
 * <p>The event types are flink-avro's {@link AvroTypeInfo}: Avro binary through flink-avro's
 * serializer, whose savepoint snapshot keeps the writer schema, so state written with an older
 * compatible schema (a field added with a default, a field removed) is migrated on restore and an
 * incompatible change refuses to start. Flink's type extraction picks the same type by itself for
 * every generated ({@code SpecificRecordBase}) class whenever flink-avro is on the classpath - a
 * function's output, a POJO field, either side of an {@code Either} - so nothing has to be
 * registered before building a graph. The constants are for the places that take a type explicitly
 * ({@code getProducedType()}, {@code OutputTag}s, {@code returns(...)}, state descriptors).
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

    public static final TypeInformation<TileTask> TILE_TASK = Types.POJO(TileTask.class);

    private SlideStreamTypes() {}
}
