package io.slidestream.job;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Where the job's three outputs go. {@link StoreSinks} writes them to Milvus, Iceberg and Kafka;
 * tests pass sinks that collect, or that wrap the real ones.
 */
public interface JobSinks {

    /** Every tile embedding (Milvus {@code tiles}, Iceberg {@code tiles}). */
    void tiles(DataStream<TileEmbedding> tiles);

    /** Every slide result (Iceberg {@code slides}, Milvus {@code slides}, Kafka results). */
    void slides(DataStream<SlideResult> slides);

    /**
     * The job's slide results and the live heads' predictions for the same slides ({@code
     * otherHeads}): both to the slides table and the results topic; Milvus keeps one slide entity
     * per slide and model, so it gets the job's results only.
     */
    default void slides(DataStream<SlideResult> slides, DataStream<SlideResult> otherHeads) {
        slides(slides.union(otherHeads));
    }

    /** Every failed slide or event (Kafka dead letter, Iceberg {@code slide_errors}). */
    void failures(DataStream<SlideFailed> failures);
}
