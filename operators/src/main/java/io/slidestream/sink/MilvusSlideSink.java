package io.slidestream.sink;

import io.slidestream.schemas.avro.SlideResult;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Writes every {@link SlideResult} to the Milvus {@code slides} collection ({@code
 * milvus.slides-collection}) as one entity keyed by slide and model, its vector the mean tile
 * embedding; a result without a mean embedding (no tile arrived before the timeout) is skipped.
 * Batched upserts, flushed at every checkpoint, retried while Milvus is away: see {@link
 * MilvusUpsertWriter}.
 */
public final class MilvusSlideSink
        implements Sink<SlideResult>, SupportsWriterState<SlideResult, MilvusPendingWrites> {
    private static final long serialVersionUID = 1L;

    private final MilvusConfig config;

    public MilvusSlideSink(MilvusConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public StatefulSinkWriter<SlideResult, MilvusPendingWrites> createWriter(
            WriterInitContext context) {
        return restoreWriter(context, List.of());
    }

    @Override
    public StatefulSinkWriter<SlideResult, MilvusPendingWrites> restoreWriter(
            WriterInitContext context, Collection<MilvusPendingWrites> recovered) {
        return new MilvusUpsertWriter<>(
                config, config.slidesCollection(), new SlideEntityConverter(), context, recovered);
    }

    @Override
    public SimpleVersionedSerializer<MilvusPendingWrites> getWriterStateSerializer() {
        return new MilvusPendingWrites.Serializer();
    }
}
