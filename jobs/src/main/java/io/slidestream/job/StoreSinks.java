package io.slidestream.job;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.sink.IcebergSinks;
import io.slidestream.sink.IcebergUpkeep;
import io.slidestream.sink.KafkaSinks;
import io.slidestream.sink.MilvusSlideSink;
import io.slidestream.sink.MilvusTileSink;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The production sinks: tiles to Milvus and Iceberg, slide results to Iceberg, Milvus and Kafka
 * (exactly once, transactional), failures to the Kafka dead letter and Iceberg {@code
 * slide_errors}; {@link #storesOnly} leaves Kafka out. Iceberg commits and Kafka transactions
 * complete on checkpoints; Milvus upserts by deterministic keys and flushes on every checkpoint, so
 * a replay overwrites instead of duplicating. The live job also maintains the Iceberg tables
 * ({@link IcebergUpkeep}).
 */
public final class StoreSinks implements JobSinks {

    public static final String MILVUS_TILES_UID = "milvus-tiles";
    public static final String MILVUS_SLIDES_UID = "milvus-slides";
    public static final String KAFKA_RESULTS_UID = "kafka-results";
    public static final String KAFKA_DEAD_LETTER_UID = "kafka-dead-letter";

    private final SlideStreamConfig config;

    /**
     * Null for the stores only (a backfill): no results topic, no dead letter, and no in-job table
     * maintenance, which the live job does.
     */
    private final KafkaSinks kafka;

    public StoreSinks(SlideStreamConfig config) {
        this(config, config.kafka().sinks());
    }

    private StoreSinks(SlideStreamConfig config, KafkaSinks kafka) {
        this.config = config;
        this.kafka = kafka;
    }

    /**
     * Milvus and Iceberg only, for a backfill: the archive's results for a new model are not news
     * for the consumers of the live results topic.
     */
    public static StoreSinks storesOnly(SlideStreamConfig config) {
        return new StoreSinks(config, null);
    }

    @Override
    public void tiles(DataStream<TileEmbedding> tiles) {
        tiles.sinkTo(new MilvusTileSink(config.milvus()))
                .uid(MILVUS_TILES_UID)
                .name("Milvus tiles (upsert)");
        IcebergSinks.appendTiles(tiles, config.iceberg());
    }

    @Override
    public void slides(DataStream<SlideResult> slides) {
        write(slides, slides);
    }

    @Override
    public void slides(DataStream<SlideResult> slides, DataStream<SlideResult> otherHeads) {
        write(slides, slides.union(otherHeads));
    }

    private void write(DataStream<SlideResult> jobResults, DataStream<SlideResult> all) {
        IcebergSinks.appendSlides(all, config.iceberg());
        if (kafka != null) {
            IcebergUpkeep.attach(jobResults, config.iceberg());
        }
        jobResults
                .sinkTo(new MilvusSlideSink(config.milvus()))
                .uid(MILVUS_SLIDES_UID)
                .name("Milvus slides (upsert)");
        if (kafka != null) {
            all.sinkTo(kafka.results(config.kafka().resultsTopic()))
                    .uid(KAFKA_RESULTS_UID)
                    .name("Kafka slides.results (exactly once)");
        }
    }

    @Override
    public void failures(DataStream<SlideFailed> failures) {
        if (kafka != null) {
            failures.sinkTo(kafka.deadLetters(config.kafka().deadLetterTopic()))
                    .uid(KAFKA_DEAD_LETTER_UID)
                    .name("Kafka slides.dead-letter (exactly once)");
        }
        IcebergSinks.appendErrors(failures, config.iceberg());
    }
}
