package io.slidestream.job;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.types.SlideStreamTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;

/**
 * The backfill: {@link SlideStreamJob}'s graph (plan, read, embed, aggregate, the Milvus and
 * Iceberg sinks) over a fixed list of slides instead of the Kafka feed, with the model of its
 * configuration. It runs as a job of its own beside the live one and writes into the same stores
 * under its own model id; nothing goes to Kafka ({@link StoreSinks#storesOnly}).
 *
 * <p>The list is emitted, then the input stays open: the planner admits slides a few at a time
 * ({@code tiling.max-active-slides}), and an input that ended would end the planner's with slides
 * still waiting for admission. Whoever started the job cancels it once every slide has a committed
 * result or error ({@code Backfill} in the local module reads them back from the stores). Exactly
 * once per slide and model: the sinks upsert by keys that hold the model id, and a new run is given
 * only the slides without a result or error for the model yet.
 */
public final class BackfillJob {

    public static final String JOB_NAME = "SlideStream backfill";
    public static final String SOURCE_UID = "backfill-slides";
    public static final String OPEN_UID = "backfill-open";

    private BackfillJob() {}

    /** Starts the backfill of {@code slides} on {@code env}; the running job's client. */
    public static JobClient start(
            StreamExecutionEnvironment env, SlideStreamConfig config, List<SlideScanned> slides)
            throws Exception {
        if (slides.isEmpty()) {
            throw new IllegalArgumentException("a backfill needs at least one slide");
        }
        if (config.aggregate().liveHeads()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_CONFIG,
                    "a backfill runs without live heads (aggregate.live-heads=false): their"
                            + " announcements are for the live job; score the archive with `heads"
                            + " rescore`");
        }
        SlideStreamJob.configure(env, config);
        SlideStreamJob.requireDurableCheckpoints(env);
        IcebergCatalogs.ensureTables(config.iceberg());
        SlideStreamJob.define(env, config, events(env, slides), StoreSinks.storesOnly(config));
        return env.executeAsync(JOB_NAME);
    }

    /**
     * {@code slides} as decoded events, then nothing until the job is cancelled: the list's own
     * source ends after it (its position is checkpointed, so a restored job emits the rest once),
     * and a second source that never emits keeps the input open.
     */
    static DataStream<Either<SlideFailed, SlideScanned>> events(
            StreamExecutionEnvironment env, List<SlideScanned> slides) {
        List<Either<SlideFailed, SlideScanned>> events = new ArrayList<>();
        slides.forEach(s -> events.add(Either.Right(s)));
        DataStream<Either<SlideFailed, SlideScanned>> list =
                env.fromData(events, SlideStreamTypes.DECODED_EVENT)
                        .name("Backfill slides (" + slides.size() + ")")
                        .uid(SOURCE_UID)
                        .setParallelism(1);
        DataStream<Either<SlideFailed, SlideScanned>> open =
                env.fromSource(
                                new DataGeneratorSource<>(
                                        new NoEvent(),
                                        Long.MAX_VALUE,
                                        new NeverGrant(),
                                        SlideStreamTypes.DECODED_EVENT),
                                WatermarkStrategy.noWatermarks(),
                                "Keep the input open")
                        .uid(OPEN_UID)
                        .setParallelism(1);
        return list.union(open);
    }

    /** Never asked: {@link NeverGrant} grants no record. */
    private static final class NoEvent
            implements GeneratorFunction<Long, Either<SlideFailed, SlideScanned>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Either<SlideFailed, SlideScanned> map(Long index) {
            throw new IllegalStateException("the open-input source emits nothing");
        }
    }

    /**
     * Grants no record, ever: the generator source asks before each one, so it waits, idle and
     * never finished, which keeps the planner's input from ending.
     */
    private static final class NeverGrant implements RateLimiterStrategy {
        private static final long serialVersionUID = 1L;

        @Override
        public RateLimiter createRateLimiter(int parallelism) {
            return CompletableFuture::new;
        }
    }
}
