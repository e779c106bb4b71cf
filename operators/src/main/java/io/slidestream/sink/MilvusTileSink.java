package io.slidestream.sink;

import io.slidestream.schemas.records.TileEmbedding;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Writes every {@link TileEmbedding} to the Milvus {@code tiles} collection ({@code
 * milvus.tiles-collection}) as one entity keyed by slide, model, level and position: batched
 * upserts and deletes; what Milvus has not taken when a checkpoint is taken is kept in it. See
 * {@link MilvusUpsertWriter} for the exactly-once and failure behaviour.
 */
public final class MilvusTileSink
        implements Sink<TileEmbedding>, SupportsWriterState<TileEmbedding, MilvusPendingWrites> {
    private static final long serialVersionUID = 1L;

    private final MilvusConfig config;

    public MilvusTileSink(MilvusConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public StatefulSinkWriter<TileEmbedding, MilvusPendingWrites> createWriter(
            WriterInitContext context) {
        return restoreWriter(context, List.of());
    }

    @Override
    public StatefulSinkWriter<TileEmbedding, MilvusPendingWrites> restoreWriter(
            WriterInitContext context, Collection<MilvusPendingWrites> recovered) {
        return new MilvusUpsertWriter<>(
                config, config.tilesCollection(), new TileEntityConverter(), context, recovered);
    }

    @Override
    public SimpleVersionedSerializer<MilvusPendingWrites> getWriterStateSerializer() {
        return new MilvusPendingWrites.Serializer();
    }
}
