package io.slidestream.tiling;

import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Passes the embed stage's results on unchanged and gives one tile credit back to the job's {@link
 * TileCreditCoordinator} for each of them (a tile embedded, or one that failed or timed out: either
 * way it left the stage). Chained right behind the embed operator, so it sees every result at once.
 * Returns are sent in batches: when {@value #BATCH} results have passed, or {@value #LINGER_MILLIS}
 * ms after the first result of a batch (a processing-time timer), so the JobManager gets a few
 * events per second rather than one per tile. No state: credits are not checkpointed.
 */
public final class TileCreditReturn<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    public static final String UID = "return-tile-credits";
    public static final String NAME = "Return tile credits";

    /** Results that make a batch of returns. */
    static final int BATCH = 16;

    /** The longest a return waits for its batch to fill. */
    static final long LINGER_MILLIS = 5;

    private transient OperatorEventGateway gateway;
    private transient int pending;
    private transient boolean timerSet;

    private TileCreditReturn(StreamOperatorParameters<T> parameters) {
        super(parameters);
    }

    /**
     * {@code results} of the embed stage, passed through an operator that returns their credits.
     */
    public static <T> SingleOutputStreamOperator<T> attach(
            DataStream<T> results, TileCreditCoordinator.Budget budget) {
        return results.transform(NAME, results.getType(), new Factory<T>(budget)).uid(UID);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
        pending++;
        if (pending >= BATCH) {
            flush();
        } else if (!timerSet) {
            timerSet = true;
            getProcessingTimeService()
                    .registerTimer(
                            getProcessingTimeService().getCurrentProcessingTime() + LINGER_MILLIS,
                            this);
        }
    }

    @Override
    public void onProcessingTime(long time) {
        timerSet = false;
        flush();
    }

    private void flush() {
        if (pending > 0) {
            gateway.sendEventToCoordinator(new TileCreditCoordinator.Return(pending));
            pending = 0;
        }
    }

    private static final class Factory<T> extends AbstractStreamOperatorFactory<T>
            implements CoordinatedOperatorFactory<T>, OneInputStreamOperatorFactory<T, T> {
        private static final long serialVersionUID = 1L;
        private final TileCreditCoordinator.Budget budget;

        Factory(TileCreditCoordinator.Budget budget) {
            this.budget = budget;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <O extends StreamOperator<T>> O createStreamOperator(
                StreamOperatorParameters<T> parameters) {
            TileCreditReturn<T> operator = new TileCreditReturn<>(parameters);
            OperatorID id = parameters.getStreamConfig().getOperatorID();
            operator.gateway = parameters.getOperatorEventDispatcher().getOperatorEventGateway(id);
            return (O) operator;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
            return TileCreditReturn.class;
        }

        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(
                String operatorName, OperatorID operatorID) {
            return new TileCreditCoordinator.Provider(
                    operatorID, TileCreditCoordinator.Role.RETURN, budget);
        }
    }
}
