package io.slidestream.tiling;

import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;

/**
 * A planner subtask's account of tile credits from the {@link TileCreditCoordinator}: {@link #take}
 * hands out what the subtask holds and, when that falls short, asks the coordinator for more (one
 * request at a time; the answer arrives as a {@link TileCreditCoordinator.Grant} on the task's
 * mailbox and goes to {@link #granted}). Without a gateway (a test harness, a job wired without the
 * budget) every take is granted in full.
 *
 * <p>Not checkpointed: after a restore the account starts empty and the coordinator's pool starts
 * afresh (see {@link TileCreditCoordinator}). Used from the task thread only.
 */
final class PlannerCredits {
    private final OperatorEventGateway gateway;
    private final int requestSize;
    private int available;
    private boolean requested;

    private PlannerCredits(OperatorEventGateway gateway, int requestSize) {
        this.gateway = gateway;
        this.requestSize = requestSize;
    }

    /** An account that grants everything: no budget. */
    static PlannerCredits unlimited() {
        return new PlannerCredits(null, 0);
    }

    /**
     * An account backed by the coordinator behind {@code gateway}, asking for up to {@code
     * requestSize} at a time.
     */
    static PlannerCredits of(OperatorEventGateway gateway, int requestSize) {
        return new PlannerCredits(gateway, Math.max(1, requestSize));
    }

    /** Takes up to {@code wanted} credits; asks the coordinator for more when it had fewer. */
    int take(int wanted) {
        if (gateway == null) {
            return wanted;
        }
        int taken = Math.min(wanted, available);
        available -= taken;
        if (taken < wanted && !requested) {
            requested = true;
            gateway.sendEventToCoordinator(new TileCreditCoordinator.Request(requestSize));
        }
        return taken;
    }

    /** The coordinator's answer to the outstanding request. */
    void granted(int credits) {
        available += credits;
        requested = false;
    }

    /** Credits held and not yet spent. */
    int available() {
        return available;
    }
}
