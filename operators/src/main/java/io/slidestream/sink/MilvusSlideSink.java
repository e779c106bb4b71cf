package io.slidestream.sink;

import io.slidestream.schemas.avro.SlideResult;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes every {@link SlideResult} to the Milvus {@code slides} collection ({@code
 * milvus.slides-collection}) as one entity keyed by slide and model, its vector the mean tile
 * embedding; a result without a mean embedding (no tile arrived before the timeout) is skipped.
 * Batched upserts, flushed at every checkpoint, retried while Milvus is away: see {@link
 * MilvusUpsertWriter}.
 */
public final class MilvusSlideSink implements Sink<SlideResult> {
    private static final long serialVersionUID = 1L;

    private final MilvusConfig config;

    public MilvusSlideSink(MilvusConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public SinkWriter<SlideResult> createWriter(WriterInitContext context) {
        return new MilvusUpsertWriter<>(
                config, config.slidesCollection(), new SlideEntityConverter(), context);
    }
}
