package io.slidestream.tiling;

import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileTask;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.TimestampedCollector;
import org.apache.flink.streaming.api.watermark.Watermark;

/**
 * Runs {@link SlideTiler} and finishes the slides being emitted when the input ends: a {@code stop
 * --drain} (Flink's stop-with-savepoint with drain) or a bounded source. The tiler emits a slide's
 * tasks chunk by chunk from processing-time timers, and Flink fires no pending processing-time
 * timer after the end of input; so at {@link #endInput} this operator emits, for every slide with
 * tasks left, all of them at once. Slides still waiting for admission are not started: they stay in
 * state (and in the drain's savepoint) and start when the job resumes from it.
 *
 * <p>The final watermark that precedes the end of input is held back until those tasks are out: the
 * slide window fires every open slide as a partial result when that watermark reaches it, so it
 * must come after the last tile of the slides in flight, not before.
 */
public final class SlidePlannerOperator extends KeyedProcessOperator<String, SlideScanned, TileTask>
        implements BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private final SlideTiler tiler;
    private transient boolean finalWatermarkHeld;

    public SlidePlannerOperator(SlideTiler tiler) {
        super(tiler);
        this.tiler = tiler;
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (mark.getTimestamp() == Watermark.MAX_WATERMARK.getTimestamp()) {
            finalWatermarkHeld = true;
            return;
        }
        super.processWatermark(mark);
    }

    @Override
    public void endInput() throws Exception {
        List<String> emitting;
        try (Stream<String> keys =
                this.<String>getKeyedStateBackend()
                        .getKeys(SlideTiler.PENDING_STATE, VoidNamespace.INSTANCE)) {
            // Collected first: emitting clears the state the stream runs over.
            emitting = keys.collect(Collectors.toList());
        }
        TimestampedCollector<TileTask> out = new TimestampedCollector<>(output);
        for (String slideId : emitting) {
            setCurrentKey(slideId);
            tiler.emitRemaining(slideId, out);
        }
        if (finalWatermarkHeld) {
            super.processWatermark(Watermark.MAX_WATERMARK);
        }
    }
}
