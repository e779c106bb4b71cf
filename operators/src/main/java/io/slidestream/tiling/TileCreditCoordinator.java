package io.slidestream.tiling;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's budget of tile tasks in flight, kept on the JobManager: planner subtasks ask it for
 * credits before they emit tile tasks ({@link Request}, answered by a {@link Grant}), and the
 * subtasks right after the embed stage ({@link TileCreditReturn}) give one credit back for every
 * tile that left it, embedded or failed ({@link Return}). So at most {@link Budget#capacity} tile
 * tasks are ever between the planners and the end of the embed stage, whatever the backlog.
 *
 * <p>Two coordinators share one {@link Pool}: the planner operator's ({@link Role#PLANNER}) and the
 * credit-return operator's ({@link Role#RETURN}), through the job's {@code CoordinatorStore}. Flink
 * calls every coordinator of a job from the JobMaster's main thread; the pool synchronises anyway.
 * A request the pool cannot serve waits there (one per planner subtask) and is granted as soon as
 * credits come back, so a planner never polls the JobManager.
 *
 * <p><b>Metrics</b> (the planner's coordinator, on the JobManager): {@code tileTasksInFlight} and
 * {@code tileTasksInFlightLimit}.
 *
 * <p><b>Failover.</b> Credits are not checkpointed: a restart loses every task in flight (the
 * planner re-emits from its checkpointed position, the embed stage replays its checkpointed
 * inputs), so when any subtask of either operator is reset the pool forgets what it had handed out
 * and the requests waiting. Returns of the failed attempt that arrive afterwards are ignored below
 * zero. Errors of this kind only ever admit a few tasks more than the budget, never fewer, so the
 * job cannot stall on lost credits.
 */
public final class TileCreditCoordinator implements OperatorCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(TileCreditCoordinator.class);

    /** Where both coordinators find the job's pool. */
    static final String POOL_KEY = Pool.class.getName();

    /** Which operator a coordinator belongs to. */
    public enum Role {
        /** The planner: asks for credits. */
        PLANNER,
        /** The operator after the embed stage: gives credits back. */
        RETURN
    }

    /**
     * The budget: {@code maxInFlight} tile tasks in all, or, when 0, {@code perEmbedSubtask} times
     * the embed stage's parallelism.
     */
    public record Budget(int maxInFlight, int perEmbedSubtask) implements Serializable {
        public Budget {
            if (maxInFlight < 0 || perEmbedSubtask < 1) {
                throw new IllegalArgumentException(
                        "a tile budget needs maxInFlight >= 0 and perEmbedSubtask >= 1, got "
                                + maxInFlight
                                + " and "
                                + perEmbedSubtask);
            }
        }

        /** The budget of {@code tiling.max-tiles-in-flight}, else twice the embed capacity. */
        public static Budget of(TilingConfig tiling, int embedCapacity) {
            return new Budget(tiling.maxTilesInFlight(), 2 * embedCapacity);
        }

        int capacity(int embedParallelism) {
            return maxInFlight > 0 ? maxInFlight : perEmbedSubtask * embedParallelism;
        }
    }

    /** A planner subtask asks for up to {@code wanted} credits. */
    public record Request(int wanted) implements OperatorEvent {}

    /** The coordinator hands a planner subtask {@code credits} credits. */
    public record Grant(int credits) implements OperatorEvent {}

    /** A subtask after the embed stage gives back {@code credits}: that many tiles left it. */
    public record Return(int credits) implements OperatorEvent {}

    private final Context context;
    private final Role role;
    private final Budget budget;
    private Pool pool;

    TileCreditCoordinator(Context context, Role role, Budget budget) {
        this.context = context;
        this.role = role;
        this.budget = budget;
    }

    @Override
    public void start() {
        pool =
                (Pool)
                        context.getCoordinatorStore()
                                .compute(POOL_KEY, (k, v) -> v == null ? new Pool(budget) : v);
        if (role == Role.RETURN) {
            pool.embedParallelism(context.currentParallelism());
        } else {
            pool.plannerParallelism(context.currentParallelism());
            // On the JobManager's metrics of the planner: how full the budget is.
            context.metricGroup().gauge("tileTasksInFlight", pool::outstanding);
            context.metricGroup().gauge("tileTasksInFlightLimit", pool::capacity);
        }
    }

    @Override
    public void close() {}

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        if (event instanceof Request request) {
            pool.request(subtask, request.wanted());
        } else if (event instanceof Return returned) {
            pool.giveBack(returned.credits());
        } else {
            throw new IllegalArgumentException("unexpected operator event " + event);
        }
    }

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
        if (role == Role.PLANNER) {
            pool.plannerReady(subtask, gateway);
        }
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, Throwable reason) {
        if (role == Role.PLANNER) {
            pool.plannerGone(subtask);
        }
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        pool.reset();
    }

    @Override
    public void resetToCheckpoint(long checkpointId, byte[] checkpointData) {
        if (pool != null) {
            pool.reset();
        }
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        result.complete(new byte[0]);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    /** Creates the coordinator of one role with the job's budget. */
    public static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;
        private final OperatorID operatorId;
        private final Role role;
        private final Budget budget;

        public Provider(OperatorID operatorId, Role role, Budget budget) {
            this.operatorId = operatorId;
            this.role = role;
            this.budget = budget;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new TileCreditCoordinator(context, role, budget);
        }
    }

    /**
     * The credits of one job: how many are out, and the planner requests waiting for some. A grant
     * is at most a {@code 1 / (2 * planner parallelism)} share of the capacity, so one planner
     * subtask cannot hold the whole budget while another waits.
     */
    static final class Pool {
        private final Budget budget;
        private int embedParallelism;
        private int plannerParallelism = 1;
        private int outstanding;
        private final Map<Integer, SubtaskGateway> planners = new HashMap<>();
        private final Map<Integer, Integer> waiting = new HashMap<>();
        private final Deque<Integer> waitingOrder = new ArrayDeque<>();

        Pool(Budget budget) {
            this.budget = budget;
        }

        synchronized void embedParallelism(int parallelism) {
            embedParallelism = parallelism;
            LOG.info(
                    "Tile tasks in flight are limited to {} (embed parallelism {})",
                    capacity(),
                    parallelism);
            serveWaiting();
        }

        synchronized void plannerParallelism(int parallelism) {
            plannerParallelism = Math.max(1, parallelism);
        }

        /** The budget; 0 until the embed stage's coordinator has started. */
        synchronized int capacity() {
            return embedParallelism == 0 ? 0 : budget.capacity(embedParallelism);
        }

        synchronized int outstanding() {
            return outstanding;
        }

        synchronized void plannerReady(int subtask, SubtaskGateway gateway) {
            planners.put(subtask, gateway);
            serveWaiting();
        }

        synchronized void plannerGone(int subtask) {
            planners.remove(subtask);
            if (waiting.remove(subtask) != null) {
                waitingOrder.remove(subtask);
            }
        }

        synchronized void request(int subtask, int wanted) {
            if (wanted < 1) {
                return;
            }
            if (waiting.put(subtask, wanted) == null) {
                waitingOrder.add(subtask);
            }
            serveWaiting();
        }

        synchronized void giveBack(int credits) {
            outstanding = Math.max(0, outstanding - credits);
            serveWaiting();
        }

        synchronized void reset() {
            outstanding = 0;
            waiting.clear();
            waitingOrder.clear();
        }

        /**
         * Grants waiting requests in arrival order while credits last. A request of a subtask whose
         * gateway is not known yet keeps its place until {@link #plannerReady}.
         */
        private void serveWaiting() {
            int capacity = capacity();
            int share = Math.max(1, capacity / (2 * plannerParallelism));
            for (Iterator<Integer> it = waitingOrder.iterator();
                    it.hasNext() && outstanding < capacity; ) {
                int subtask = it.next();
                SubtaskGateway gateway = planners.get(subtask);
                if (gateway == null) {
                    continue;
                }
                int granted =
                        Math.min(Math.min(waiting.remove(subtask), share), capacity - outstanding);
                it.remove();
                outstanding += granted;
                gateway.sendEvent(new Grant(granted));
            }
        }
    }
}
