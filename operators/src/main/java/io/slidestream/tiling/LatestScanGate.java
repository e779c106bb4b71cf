package io.slidestream.tiling;

import io.slidestream.runtime.JobClassLoaderCleanup;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Instant;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets through, per slide, only what belongs to the latest scan seen: tile embeddings, failed-tile
 * markers and the planner's {@linkplain TileEmbedding#removal removals}. A record of an older scan
 * - a tile still in flight in the embedder when a re-scan was planned - is dropped (counted as
 * {@code staleScanTilesDropped}), so it can neither overwrite the newer scan's tile of the same key
 * in Milvus or Iceberg nor reach the slide window.
 *
 * <p>Everything that writes tiles or closes slides sits behind this operator and is fed from it
 * without another shuffle (the tile sinks forward, the window through {@code
 * reinterpretAsKeyedStream}), so for every key the order the gate lets records through is the order
 * the stores apply them: an earlier scan's tile that passed before the removal of its key is
 * deleted by it; one that comes after is dropped here.
 *
 * <p>State: per slide, the latest {@code scanned_at} seen, with the planner's memory as TTL ({@code
 * tiling.scan-memory}); a {@linkplain TileEmbedding#forgetting forget marker} clears it and is
 * passed on to the slide window.
 */
public class LatestScanGate extends KeyedProcessFunction<String, TileEmbedding, TileEmbedding> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LatestScanGate.class);

    public static final String UID = "latest-scan-gate";
    public static final String NAME = "Latest scan only: drop tiles of superseded scans";

    private final TilingConfig tiling;

    private transient ValueState<Long> latestScan;
    private transient Counter dropped;

    public LatestScanGate(TilingConfig tiling) {
        this.tiling = tiling;
    }

    @Override
    public void open(OpenContext context) {
        JobClassLoaderCleanup.register(getRuntimeContext());
        ValueStateDescriptor<Long> latest =
                new ValueStateDescriptor<>("latest-scan-written", Types.LONG);
        latest.enableTimeToLive(
                StateTtlConfig.newBuilder(tiling.scanMemory())
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .build());
        latestScan = getRuntimeContext().getState(latest);
        dropped = getRuntimeContext().getMetricGroup().counter("staleScanTilesDropped");
    }

    @Override
    public void processElement(TileEmbedding tile, Context ctx, Collector<TileEmbedding> out)
            throws Exception {
        if (tile.forgotten) {
            // The slide was erased: its next scan, whatever its time, starts afresh.
            latestScan.clear();
            out.collect(tile);
            return;
        }
        Long latest = latestScan.value();
        if (latest != null && tile.scannedAtMillis < latest) {
            if (dropped.getCount() % 1000 == 0) {
                LOG.info(
                        "Dropping tile ({}, {}) of slide {} scanned at {}: the slide's scan of {}"
                                + " supersedes it ({} such tiles dropped by this subtask so far)",
                        tile.x,
                        tile.y,
                        tile.slideId,
                        Instant.ofEpochMilli(tile.scannedAtMillis),
                        Instant.ofEpochMilli(latest),
                        dropped.getCount() + 1);
            }
            dropped.inc();
            return;
        }
        if (latest == null || tile.scannedAtMillis > latest) {
            latestScan.update(tile.scannedAtMillis);
        }
        out.collect(tile);
    }
}
