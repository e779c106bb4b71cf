package io.slidestream.runtime;

import java.util.concurrent.CompletableFuture;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
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
 * Runs {@link JobClassLoaderCleanup} in the JobManager when the job ends there. The JobManager
 * loads the job's classes too (its JobMaster deserializes the job graph with them), and the job's
 * libraries leave references behind on its long-lived threads (Avro's name validator in a
 * thread-local of {@code jobmanager-future-thread}), which would keep every submitted job's class
 * loader for the life of the JobManager. Flink offers job code one place that lives and ends with
 * the JobMaster: an operator coordinator. {@link #attach} adds a pass-through operator (chained, it
 * costs a method call per event) whose coordinator does nothing but the cleanup on close, without
 * waiting there for the job's threads to end (the job's other coordinators close after it).
 */
public final class JobManagerRelease {
    public static final String UID = "job-manager-release";
    public static final String NAME = "Release job classes on the JobManager";

    private JobManagerRelease() {}

    /** {@code stream}, passed through an operator whose coordinator cleans up at the job's end. */
    public static <T> SingleOutputStreamOperator<T> attach(DataStream<T> stream) {
        return stream.transform(NAME, stream.getType(), new Factory<T>()).uid(UID);
    }

    private static final class Factory<T> extends AbstractStreamOperatorFactory<T>
            implements CoordinatedOperatorFactory<T>, OneInputStreamOperatorFactory<T, T> {
        private static final long serialVersionUID = 1L;

        @Override
        @SuppressWarnings("unchecked")
        public <O extends StreamOperator<T>> O createStreamOperator(
                StreamOperatorParameters<T> parameters) {
            return (O) new PassThrough<>(parameters);
        }

        @Override
        @SuppressWarnings("rawtypes")
        public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
            return PassThrough.class;
        }

        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(
                String operatorName, OperatorID operatorID) {
            return new Provider(operatorID);
        }
    }

    private static final class PassThrough<T> extends AbstractStreamOperator<T>
            implements OneInputStreamOperator<T, T> {
        private static final long serialVersionUID = 1L;

        PassThrough(StreamOperatorParameters<T> parameters) {
            super(parameters);
        }

        @Override
        public void processElement(StreamRecord<T> element) {
            output.collect(element);
        }
    }

    private static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;
        private final OperatorID operatorId;

        Provider(OperatorID operatorId) {
            this.operatorId = operatorId;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(OperatorCoordinator.Context context) {
            return new ReleasingCoordinator();
        }
    }

    /** Holds no state and handles no events; closing it (the JobMaster ends) cleans up. */
    private static final class ReleasingCoordinator implements OperatorCoordinator {
        @Override
        public void start() {}

        @Override
        public void close() {
            JobClassLoaderCleanup.releaseWithoutWaiting();
        }

        @Override
        public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {}

        @Override
        public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
            result.complete(new byte[0]);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {}

        @Override
        public void resetToCheckpoint(long checkpointId, byte[] checkpointData) {}

        @Override
        public void subtaskReset(int subtask, long checkpointId) {}

        @Override
        public void executionAttemptFailed(int subtask, int attemptNumber, Throwable reason) {}

        @Override
        public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {}
    }
}
