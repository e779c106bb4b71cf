package io.slidestream.tiling;

import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileTask;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventDispatcher;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleUdfStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
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
 *
 * <p><b>Tile credits.</b> Built through {@link #factory}, the operator has a {@link
 * TileCreditCoordinator} and the tiler emits a task only with a credit from the job's budget
 * (answers arrive here as operator events, on the task thread). Built directly (test harnesses),
 * every task is emitted without one. The tasks emitted at the end of input take no credits.
 */
public final class SlidePlannerOperator extends KeyedProcessOperator<String, SlideScanned, TileTask>
        implements BoundedOneInput, OperatorEventHandler {
    private static final long serialVersionUID = 1L;

    private final SlideTiler tiler;
    private transient boolean finalWatermarkHeld;
    private transient PlannerCredits credits;

    public SlidePlannerOperator(SlideTiler tiler) {
        super(tiler);
        this.tiler = tiler;
    }

    /**
     * The factory that runs {@code tiler} with a {@link TileCreditCoordinator} of the {@link
     * TileCreditCoordinator.Role#PLANNER} role: tile tasks only within {@code budget}.
     */
    public static Factory factory(SlideTiler tiler, TileCreditCoordinator.Budget budget) {
        return new Factory(new SlidePlannerOperator(tiler), budget);
    }

    /** Takes credits through {@code gateway}, asking for up to {@code requestSize} at a time. */
    void useCredits(OperatorEventGateway gateway, int requestSize) {
        credits = PlannerCredits.of(gateway, requestSize);
        tiler.useCredits(credits);
    }

    @Override
    public void handleOperatorEvent(OperatorEvent event) {
        if (event instanceof TileCreditCoordinator.Grant grant && credits != null) {
            credits.granted(grant.credits());
        }
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

    /** Creates the operator in each task and connects it to its credit coordinator. */
    public static final class Factory extends SimpleUdfStreamOperatorFactory<TileTask>
            implements CoordinatedOperatorFactory<TileTask>,
                    OneInputStreamOperatorFactory<SlideScanned, TileTask> {
        private static final long serialVersionUID = 1L;
        private final TileCreditCoordinator.Budget budget;
        private final int requestSize;

        private Factory(SlidePlannerOperator operator, TileCreditCoordinator.Budget budget) {
            super(operator);
            this.budget = budget;
            this.requestSize = operator.tiler.emitChunkSize();
        }

        @Override
        public <T extends StreamOperator<TileTask>> T createStreamOperator(
                StreamOperatorParameters<TileTask> parameters) {
            T created = super.createStreamOperator(parameters);
            SlidePlannerOperator operator = (SlidePlannerOperator) created;
            OperatorID id = parameters.getStreamConfig().getOperatorID();
            OperatorEventDispatcher dispatcher = parameters.getOperatorEventDispatcher();
            operator.useCredits(dispatcher.getOperatorEventGateway(id), requestSize);
            dispatcher.registerEventHandler(id, operator);
            return created;
        }

        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(
                String operatorName, OperatorID operatorID) {
            return new TileCreditCoordinator.Provider(
                    operatorID, TileCreditCoordinator.Role.PLANNER, budget);
        }
    }
}
