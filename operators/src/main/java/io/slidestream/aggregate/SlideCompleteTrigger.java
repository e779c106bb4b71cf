package io.slidestream.aggregate;

import io.slidestream.schemas.records.TileEmbedding;
import java.time.Duration;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.triggers.TriggerResult;
import org.apache.flink.streaming.api.windowing.windows.GlobalWindow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires a slide's {@link GlobalWindow} exactly once: when every one of its {@code tileCount} tiles
 * has arrived, or when the slide stalls - no new tile for the slide timeout - or has been open for
 * the slide's longest duration (the aggregate then marks the result incomplete), or at the end of a
 * bounded input. Used on a stream keyed by slide id.
 *
 * <p><b>Why a partial result.</b> When the slide fires before every tile arrived, the trigger
 * leaves the reason in the window's {@link #CLOSE_REASON} state ({@link CloseReason}), which the
 * {@link SlideAggregator} reads, writes into the result's {@code incomplete_reason} and clears.
 *
 * <p><b>Counting.</b> Tiles are counted by distinct {@code tileIndex}: a tile seen twice (a replay
 * from an at-least-once stage, a retried inference) does not count twice. The window contents still
 * hold the copy, because the window operator stores an element before it asks the trigger; the
 * aggregate drops it again by index. A tile whose index lies outside {@code [0, tileCount)} is
 * logged and not counted.
 *
 * <p><b>Failed tiles.</b> A {@linkplain TileEmbedding#failed failed-tile marker} - a tile that
 * could not be read or embedded and will never arrive - counts exactly like a tile: it is what lets
 * a slide with a corrupt region fire as soon as every tile is accounted for rather than at its
 * timeout. The trigger does not tell markers from tiles (a marker and a tile of the same index
 * count once, whichever came first); the {@link SlideAggregator} leaves markers out of the result
 * and emits none for a slide of markers only. Markers add no state of their own, so savepoints are
 * unaffected.
 *
 * <p><b>State</b> (keyed by slide, scoped to the global window), while the slide is open: the
 * {@code scanned_at} of the slide run, the number of distinct tiles, a bitset of the tile indices
 * seen (one map entry per 64 tiles, so that an update in RocksDB writes 8 bytes rather than the
 * whole bitset), the processing time of its first and of its latest new tile, and the one pending
 * timer. <b>Timers:</b> a processing-time timer for the stall check, first registered at first tile
 * + slide timeout; when it fires and a tile came since, it moves to latest tile + timeout (lazily,
 * rather than re-registering a timer per tile), but never past first tile + longest duration. Time
 * a slide waits in a backlog does not count: the timeout runs from the slide's own tiles, and the
 * planners keep the tile tasks in flight bounded ({@code tiling.max-tiles-in-flight}) so a slide's
 * next tile is never queued behind more than that. An event-time timer at the end of time, which
 * only the final watermark of a bounded input reaches, emits slides still open when a bounded input
 * ends as partial results instead of losing them.
 *
 * <p><b>After the slide fired</b> the bitset, count and both timers are removed at once. What
 * stays, if {@code doneRetention > 0}, is a done marker of two values (the run's {@code scanned_at}
 * and the marker's expiry) plus one processing-time timer that removes it. Tiles of the same run
 * that arrive while the marker lives - stragglers after a timeout, or replays from a source that is
 * not exactly-once - are purged without a result, so a slide never gets a second, smaller result. A
 * tile with a later {@code scanned_at} is a re-scan of the slide and opens a new window; one with
 * an earlier {@code scanned_at} is purged the same way.
 *
 * <p><b>Re-scan while open.</b> A tile of a later scan while the slide is open abandons the open
 * run (its progress and timers; no result for the superseded scan) and starts counting the new scan
 * with a fresh timeout. Tiles of an older scan than the open one are not counted. Either way the
 * earlier scan's tiles still in the window's contents are left out by {@link SlideBag}, which
 * aggregates the latest scan only. ({@code LatestScanGate} upstream already drops most of them.)
 * After the marker expires, a straggler would open a new window that ends in a partial result of
 * its own; downstream stores key slide results by slide id, so that result overwrites rather than
 * duplicates. A timer is used for the marker rather than state TTL because it removes the marker at
 * a known time on every state backend, which TTL's lazy cleanup does not.
 *
 * <p><b>Forgetting.</b> A {@linkplain TileEmbedding#forgetting forget marker} (the slide was erased
 * on request) drops everything the trigger holds of the slide - an open run with its tiles, no
 * result, or the done marker - so a later announcement of it, a repeat of the erased one too, is
 * aggregated afresh.
 *
 * <p><b>Failover.</b> State and timers are part of the checkpoint: after a restore the slide
 * continues from the checkpointed count and its timeout keeps its original deadline. Tiles replayed
 * by the source after the restore are those after the checkpoint, which the restored bitset has not
 * seen, so they count normally. A deadline that passed while the job was down fires as soon as the
 * operator opens, before the replayed tiles arrive: the slide then gets a partial result, so the
 * timeout should cover the longest expected slide plus a restart.
 */
public class SlideCompleteTrigger extends Trigger<TileEmbedding, GlobalWindow> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SlideCompleteTrigger.class);

    /** The end-of-input timer: only the final watermark of a bounded input reaches it. */
    private static final long END_OF_INPUT = Long.MAX_VALUE;

    /**
     * Why a slide fired before all its tiles arrived, left in the window's state for the aggregate.
     */
    public enum CloseReason {
        /** No new tile for the slide timeout. */
        STALLED,
        /** Open for the longest duration a slide may take. */
        MAX_DURATION,
        /** A bounded input ended. */
        END_OF_INPUT
    }

    /** The reason a slide fired early (absent when it fired with every tile accounted for). */
    public static final ValueStateDescriptor<String> CLOSE_REASON =
            new ValueStateDescriptor<>("slide-close-reason", Types.STRING);

    private final long timeoutMillis;
    private final long maxDurationMillis;
    private final long doneRetentionMillis;

    /** Processing time of the open run's first tile. */
    private final ValueStateDescriptor<Long> openedDescriptor =
            new ValueStateDescriptor<>("slide-opened", Types.LONG);

    /** Processing time of the open run's latest new tile. */
    private final ValueStateDescriptor<Long> progressDescriptor =
            new ValueStateDescriptor<>("slide-progress", Types.LONG);

    /** {@code scanned_at} of the slide run this state belongs to, open or done. */
    private final ValueStateDescriptor<Long> runDescriptor =
            new ValueStateDescriptor<>("slide-run", Types.LONG);

    /** Distinct tiles seen; present only while the slide is open. */
    private final ValueStateDescriptor<Integer> receivedDescriptor =
            new ValueStateDescriptor<>("slide-tiles-received", Types.INT);

    /**
     * The one pending processing-time timer: the timeout while open, the marker expiry once done.
     */
    private final ValueStateDescriptor<Long> timerDescriptor =
            new ValueStateDescriptor<>("slide-timer", Types.LONG);

    /** Bitset of the tile indices seen: word index (tileIndex / 64) to 64 bits. */
    private final MapStateDescriptor<Integer, Long> seenDescriptor =
            new MapStateDescriptor<>("slide-tiles-seen", Types.INT, Types.LONG);

    /**
     * @param slideTimeout how long a slide may go without a new tile
     * @param maxDuration how long a slide may stay open from its first tile, at most
     * @param doneRetention how long an emitted slide is remembered (0: not at all)
     */
    public SlideCompleteTrigger(
            Duration slideTimeout, Duration maxDuration, Duration doneRetention) {
        if (slideTimeout.isNegative() || slideTimeout.isZero()) {
            throw new IllegalArgumentException(
                    "the slide timeout must be positive, got " + slideTimeout);
        }
        if (maxDuration.compareTo(slideTimeout) < 0) {
            throw new IllegalArgumentException(
                    "the longest slide duration must be at least the slide timeout, got "
                            + maxDuration);
        }
        if (doneRetention.isNegative()) {
            throw new IllegalArgumentException(
                    "the done retention must not be negative, got " + doneRetention);
        }
        this.timeoutMillis = slideTimeout.toMillis();
        this.maxDurationMillis = maxDuration.toMillis();
        this.doneRetentionMillis = doneRetention.toMillis();
    }

    /** A trigger with the timeout and done retention of {@code config}. */
    public static SlideCompleteTrigger of(AggregateConfig config) {
        return new SlideCompleteTrigger(
                config.slideTimeout(), config.slideMaxDuration(), config.doneRetention());
    }

    @Override
    public TriggerResult onElement(
            TileEmbedding tile, long timestamp, GlobalWindow window, TriggerContext ctx)
            throws Exception {
        if (tile.forgotten) {
            LOG.info(
                    "Slide {} forgotten on request: its open run or done marker dropped",
                    tile.slideId);
            clear(window, ctx);
            return TriggerResult.PURGE;
        }
        ValueState<Long> run = ctx.getPartitionedState(runDescriptor);
        ValueState<Integer> received = ctx.getPartitionedState(receivedDescriptor);
        Long runScannedAt = run.value();
        Integer count = received.value();

        if (runScannedAt != null && count != null && tile.scannedAtMillis != runScannedAt) {
            if (tile.scannedAtMillis < runScannedAt) {
                // A tile of an older scan while a newer one is open: not counted; the aggregator
                // leaves it out of the result.
                LOG.debug(
                        "Ignoring tile {} of slide {}: scan {} is older than the open scan {}",
                        tile.tileIndex,
                        tile.slideId,
                        tile.scannedAtMillis,
                        runScannedAt);
                return TriggerResult.CONTINUE;
            }
            LOG.info(
                    "Slide {} re-scanned (scanned_at {} after {}) before the earlier scan closed:"
                            + " aggregating the new scan only",
                    tile.slideId,
                    tile.scannedAtMillis,
                    runScannedAt);
            abandonOpenRun(ctx);
            count = null;
        } else if (runScannedAt != null && count == null) {
            if (runScannedAt >= tile.scannedAtMillis) {
                // The slide was already emitted, or a newer scan of it was: drop the tile the
                // window operator just stored.
                LOG.debug(
                        "Dropping tile {} of slide {}: its scan was emitted or superseded",
                        tile.tileIndex,
                        tile.slideId);
                return TriggerResult.PURGE;
            }
            LOG.info(
                    "Slide {} announced again (scanned_at {} after {}): aggregating it afresh",
                    tile.slideId,
                    tile.scannedAtMillis,
                    runScannedAt);
            forgetDone(ctx);
        }
        long now = ctx.getCurrentProcessingTime();
        if (count == null) {
            count = 0;
            run.update(tile.scannedAtMillis);
            ctx.getPartitionedState(openedDescriptor).update(now);
            ctx.getPartitionedState(progressDescriptor).update(now);
            long deadline = now + timeoutMillis;
            ctx.getPartitionedState(timerDescriptor).update(deadline);
            ctx.registerProcessingTimeTimer(deadline);
            ctx.registerEventTimeTimer(END_OF_INPUT);
        }

        int index = tile.tileIndex;
        if (index < 0 || index >= tile.tileCount) {
            LOG.warn(
                    "Ignoring tile {} of slide {}: its index is outside 0..{}",
                    index,
                    tile.slideId,
                    tile.tileCount - 1);
            received.update(count);
            return TriggerResult.CONTINUE;
        }
        MapState<Integer, Long> seen = ctx.getPartitionedState(seenDescriptor);
        int word = index >>> 6;
        long bit = 1L << (index & 63);
        Long bits = seen.get(word);
        long current = bits == null ? 0L : bits;
        if ((current & bit) != 0) {
            LOG.debug("Ignoring duplicate tile {} of slide {}", index, tile.slideId);
            return TriggerResult.CONTINUE;
        }
        seen.put(word, current | bit);
        count++;
        if (count >= tile.tileCount) {
            finish(ctx, null);
            return TriggerResult.FIRE_AND_PURGE;
        }
        received.update(count);
        ctx.getPartitionedState(progressDescriptor).update(now);
        return TriggerResult.CONTINUE;
    }

    @Override
    public TriggerResult onProcessingTime(long time, GlobalWindow window, TriggerContext ctx)
            throws Exception {
        ValueState<Long> timer = ctx.getPartitionedState(timerDescriptor);
        Long pending = timer.value();
        if (pending == null || pending != time) {
            return TriggerResult.CONTINUE;
        }
        if (ctx.getPartitionedState(receivedDescriptor).value() != null) {
            Long opened = ctx.getPartitionedState(openedDescriptor).value();
            Long progress = ctx.getPartitionedState(progressDescriptor).value();
            // A slide opened before these were kept (restored from an older savepoint) has
            // neither: it stalls at its old deadline unless a tile comes first, and has no cap.
            long cap = opened == null ? Long.MAX_VALUE : opened + maxDurationMillis;
            long stall = progress == null ? time : progress + timeoutMillis;
            long due = Math.min(cap, stall);
            if (time < due) {
                // Tiles came since the check was set: look again a timeout after the latest.
                timer.update(due);
                ctx.registerProcessingTimeTimer(due);
                return TriggerResult.CONTINUE;
            }
            // Emit what arrived; the aggregate marks it incomplete and names the reason.
            finish(ctx, cap <= stall ? CloseReason.MAX_DURATION : CloseReason.STALLED);
            return TriggerResult.FIRE_AND_PURGE;
        }
        // The done marker expired.
        ctx.getPartitionedState(runDescriptor).clear();
        timer.clear();
        return TriggerResult.CONTINUE;
    }

    @Override
    public TriggerResult onEventTime(long time, GlobalWindow window, TriggerContext ctx)
            throws Exception {
        if (time == END_OF_INPUT && ctx.getPartitionedState(receivedDescriptor).value() != null) {
            finish(ctx, CloseReason.END_OF_INPUT);
            return TriggerResult.FIRE_AND_PURGE;
        }
        return TriggerResult.CONTINUE;
    }

    /**
     * Drops all state and timers of the slide. Called for a {@linkplain TileEmbedding#forgetting
     * forget marker}, and by the window operator only when it discards the whole window, which
     * never happens for a {@link GlobalWindow}; {@link #finish} does the cleanup when the slide
     * fires.
     */
    @Override
    public void clear(GlobalWindow window, TriggerContext ctx) throws Exception {
        Long pending = ctx.getPartitionedState(timerDescriptor).value();
        if (pending != null) {
            ctx.deleteProcessingTimeTimer(pending);
        }
        ctx.deleteEventTimeTimer(END_OF_INPUT);
        ctx.getPartitionedState(runDescriptor).clear();
        ctx.getPartitionedState(receivedDescriptor).clear();
        ctx.getPartitionedState(timerDescriptor).clear();
        ctx.getPartitionedState(seenDescriptor).clear();
        clearProgress(ctx);
        ctx.getPartitionedState(CLOSE_REASON).clear();
    }

    /**
     * Drops the open slide's progress and timers and leaves the done marker, if one is kept, and
     * the reason for the aggregate when the slide fires early ({@code reason} null otherwise).
     */
    private void finish(TriggerContext ctx, CloseReason reason) throws Exception {
        if (reason != null) {
            ctx.getPartitionedState(CLOSE_REASON).update(reason.name());
        }
        clearProgress(ctx);
        ValueState<Long> timer = ctx.getPartitionedState(timerDescriptor);
        Long deadline = timer.value();
        if (deadline != null) {
            ctx.deleteProcessingTimeTimer(deadline);
        }
        ctx.deleteEventTimeTimer(END_OF_INPUT);
        ctx.getPartitionedState(receivedDescriptor).clear();
        ctx.getPartitionedState(seenDescriptor).clear();
        if (doneRetentionMillis > 0) {
            long expiry = ctx.getCurrentProcessingTime() + doneRetentionMillis;
            timer.update(expiry);
            ctx.registerProcessingTimeTimer(expiry);
        } else {
            timer.clear();
            ctx.getPartitionedState(runDescriptor).clear();
        }
    }

    /**
     * Drops an open run's progress and timers when a newer scan of the slide starts; its tiles stay
     * in the window's contents until it fires and are left out by the aggregator.
     */
    private void abandonOpenRun(TriggerContext ctx) throws Exception {
        // The pending timer is the open run's timeout: removed with the run like a done marker.
        forgetDone(ctx);
        ctx.getPartitionedState(receivedDescriptor).clear();
        ctx.getPartitionedState(seenDescriptor).clear();
        clearProgress(ctx);
    }

    private void clearProgress(TriggerContext ctx) {
        ctx.getPartitionedState(openedDescriptor).clear();
        ctx.getPartitionedState(progressDescriptor).clear();
    }

    /** Removes the done marker of an earlier run and its expiry timer. */
    private void forgetDone(TriggerContext ctx) throws Exception {
        ValueState<Long> timer = ctx.getPartitionedState(timerDescriptor);
        Long expiry = timer.value();
        if (expiry != null) {
            ctx.deleteProcessingTimeTimer(expiry);
        }
        timer.clear();
        ctx.getPartitionedState(runDescriptor).clear();
    }

    @Override
    public String toString() {
        return "SlideCompleteTrigger(timeout="
                + Duration.ofMillis(timeoutMillis)
                + ", maxDuration="
                + Duration.ofMillis(maxDurationMillis)
                + ", doneRetention="
                + Duration.ofMillis(doneRetentionMillis)
                + ")";
    }
}
