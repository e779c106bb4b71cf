package io.slidestream.source;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.types.SlideStreamTypes;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits the Kafka source's {@code Either<SlideFailed, SlideScanned>} stream: decoded events go on
 * as the main output, records that could not be decoded go to the {@link #MALFORMED} side output
 * (wired to the dead-letter sinks). Stateless, no timers; it cannot fail on a record.
 */
public final class DecodedEventRouter
        extends ProcessFunction<Either<SlideFailed, SlideScanned>, SlideScanned>
        implements ResultTypeQueryable<SlideScanned> {
    private static final long serialVersionUID = 1L;

    /** Records of {@code slides.scanned} that were not valid events (code MALFORMED_EVENT). */
    public static final OutputTag<SlideFailed> MALFORMED =
            new OutputTag<>("malformed-events", SlideStreamTypes.SLIDE_FAILED);

    @Override
    public void processElement(
            Either<SlideFailed, SlideScanned> value, Context ctx, Collector<SlideScanned> out) {
        if (value.isRight()) {
            out.collect(value.right());
        } else {
            ctx.output(MALFORMED, value.left());
        }
    }

    @Override
    public TypeInformation<SlideScanned> getProducedType() {
        return SlideStreamTypes.SLIDE_SCANNED;
    }
}
