package io.slidestream.sink;

import io.slidestream.schemas.records.TileEmbedding;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes every {@link TileEmbedding} to the Milvus {@code tiles} collection ({@code
 * milvus.tiles-collection}) as one entity keyed by slide, model, level and position: batched
 * upserts, flushed at every checkpoint, retried while Milvus is away. See {@link
 * MilvusUpsertWriter} for the exactly-once and failure behaviour.
 */
public final class MilvusTileSink implements Sink<TileEmbedding> {
    private static final long serialVersionUID = 1L;

    private final MilvusConfig config;

    public MilvusTileSink(MilvusConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public SinkWriter<TileEmbedding> createWriter(WriterInitContext context) {
        return new MilvusUpsertWriter<>(
                config, config.tilesCollection(), new TileEntityConverter(), context);
    }
}
