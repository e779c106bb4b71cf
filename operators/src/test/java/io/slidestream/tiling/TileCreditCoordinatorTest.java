package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.tiling.TileCreditCoordinator.Budget;
import io.slidestream.tiling.TileCreditCoordinator.Grant;
import io.slidestream.tiling.TileCreditCoordinator.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.messages.Acknowledge;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator.SubtaskGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.junit.jupiter.api.Test;

/** The job's budget of tile tasks in flight: what is granted, what waits, and what a reset does. */
class TileCreditCoordinatorTest {

    @Test
    void sizesTheBudgetFromTheEmbedStageUnlessItIsConfigured() {
        assertThat(Budget.of(TilingConfig.defaults(), 64).capacity(3)).isEqualTo(384);
        assertThat(
                        Budget.of(
                                        TilingConfig.builder()
                                                .set(TilingOptions.MAX_TILES_IN_FLIGHT, 50)
                                                .build(),
                                        64)
                                .capacity(3))
                .isEqualTo(50);
        assertThatThrownBy(() -> new Budget(-1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void neverHasMoreCreditsOutThanTheBudgetAndGrantsWaitingRequestsAsCreditsReturn() {
        Pool pool = new Pool(new Budget(100, 1));
        pool.plannerParallelism(1);
        Gateway planner = new Gateway(0);
        pool.plannerReady(0, planner);

        // Before the embed stage's coordinator started the budget is unknown: the request waits.
        pool.request(0, 256);
        assertThat(planner.grants()).isEmpty();
        pool.embedParallelism(2);
        // One planner subtask gets at most half the budget at a time.
        assertThat(planner.grants()).containsExactly(50);

        pool.request(0, 256);
        assertThat(planner.grants()).containsExactly(50, 50);
        assertThat(pool.outstanding()).isEqualTo(100);

        pool.request(0, 256);
        assertThat(planner.grants()).hasSize(2);
        pool.giveBack(16);
        assertThat(planner.grants()).containsExactly(50, 50, 16);
        assertThat(pool.outstanding()).isEqualTo(100);
    }

    @Test
    void servesPlannerSubtasksInTheOrderTheyAsked() {
        Pool pool = new Pool(new Budget(8, 1));
        pool.plannerParallelism(2);
        pool.embedParallelism(1);
        Gateway first = new Gateway(0);
        Gateway second = new Gateway(1);
        pool.plannerReady(0, first);
        pool.plannerReady(1, second);

        pool.request(0, 8);
        pool.request(1, 8);
        pool.request(0, 8);
        pool.request(1, 8);
        assertThat(first.grants()).containsExactly(2, 2);
        assertThat(second.grants()).containsExactly(2, 2);

        pool.request(1, 8);
        pool.request(0, 8);
        pool.giveBack(3);
        assertThat(second.grants()).containsExactly(2, 2, 2);
        assertThat(first.grants()).containsExactly(2, 2, 1);
    }

    @Test
    void aRequestOfASubtaskNotReadyYetWaitsForItsGateway() {
        Pool pool = new Pool(new Budget(10, 1));
        pool.embedParallelism(1);
        pool.request(0, 4);
        Gateway planner = new Gateway(0);
        pool.plannerReady(0, planner);
        assertThat(planner.grants()).containsExactly(4);
    }

    @Test
    void aResetForgetsWhatWasOutAndWhatWaitedAndReturnsNeverGoBelowZero() {
        Pool pool = new Pool(new Budget(10, 1));
        pool.plannerParallelism(1);
        pool.embedParallelism(1);
        Gateway planner = new Gateway(0);
        pool.plannerReady(0, planner);
        pool.request(0, 5);
        pool.request(0, 5);
        pool.request(0, 5);
        assertThat(pool.outstanding()).isEqualTo(10);

        pool.reset();
        assertThat(pool.outstanding()).isZero();
        // Returns of the failed attempt arriving late do not create credits out of nothing.
        pool.giveBack(7);
        assertThat(pool.outstanding()).isZero();
        assertThat(planner.grants()).containsExactly(5, 5);

        pool.plannerGone(0);
        pool.request(0, 5);
        assertThat(planner.grants()).containsExactly(5, 5);
    }

    /** A planner subtask's gateway that records the grants sent to it. */
    private static final class Gateway implements SubtaskGateway {
        private final int subtask;
        private final List<OperatorEvent> sent = new ArrayList<>();

        Gateway(int subtask) {
            this.subtask = subtask;
        }

        List<Integer> grants() {
            return sent.stream().map(e -> ((Grant) e).credits()).toList();
        }

        @Override
        public CompletableFuture<Acknowledge> sendEvent(OperatorEvent event) {
            sent.add(event);
            return CompletableFuture.completedFuture(Acknowledge.get());
        }

        @Override
        public ExecutionAttemptID getExecution() {
            return ExecutionAttemptID.randomId();
        }

        @Override
        public int getSubtask() {
            return subtask;
        }
    }
}
