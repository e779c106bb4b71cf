package io.slidestream.job;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.types.SlideStreamTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * <p>The list is emitted, then the source stays open: the planner admits slides a few at a time
 * ({@code tiling.max-active-slides}) and a source that ended would end the planner's input with
 * slides still waiting for admission. Whoever started the job cancels it once every slide has a
 * committed result or error ({@code Backfill} in the local module reads them back from the stores).
 * Exactly once per slide and model: the sinks upsert by keys that hold the model id, and a new run
 * is given only the slides without a result or error for the model yet.
 */
public final class BackfillJob {

    public static final String JOB_NAME = "SlideStream backfill";
    public static final String SOURCE_UID = "backfill-slides";

    private BackfillJob() {}

    /** Starts the backfill of {@code slides} on {@code env}; the running job's client. */
    public static JobClient start(
            StreamExecutionEnvironment env, SlideStreamConfig config, List<SlideScanned> slides)
            throws Exception {
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

    /** {@code slides} as decoded events, then nothing until the job is cancelled. */
    static DataStream<Either<SlideFailed, SlideScanned>> events(
            StreamExecutionEnvironment env, List<SlideScanned> slides) {
        ArrayList<byte[]> encoded = new ArrayList<>();
        slides.forEach(s -> encoded.add(AvroCodec.SLIDE_SCANNED.encode(s)));
        return env.fromSource(
                        new DataGeneratorSource<>(
                                new SlideAt(encoded),
                                Long.MAX_VALUE,
                                new ListThenIdle(encoded.size()),
                                SlideStreamTypes.DECODED_EVENT),
                        WatermarkStrategy.noWatermarks(),
                        "Backfill slides (" + slides.size() + ")")
                .uid(SOURCE_UID)
                .setParallelism(1);
    }

    /** The slide at an index of the list. */
    private static final class SlideAt
            implements GeneratorFunction<Long, Either<SlideFailed, SlideScanned>> {
        private static final long serialVersionUID = 1L;
        private final ArrayList<byte[]> slides;

        SlideAt(ArrayList<byte[]> slides) {
            this.slides = slides;
        }

        @Override
        public Either<SlideFailed, SlideScanned> map(Long index) throws Exception {
            return Either.Right(AvroCodec.SLIDE_SCANNED.decode(slides.get(index.intValue())));
        }
    }

    /**
     * Grants one record per slide of the list and then none, ever: the generator source (a number
     * sequence up to {@code Long.MAX_VALUE}, one reader) asks before every record, so after the
     * list it waits, idle, instead of ending. A restored reader starts counting again, which only
     * matters for a job restored from its own checkpoint: the sequence position is restored with
     * it, and the generator is never asked past the list.
     */
    private record ListThenIdle(int size) implements RateLimiterStrategy {
        @Override
        public RateLimiter createRateLimiter(int parallelism) {
            return new RateLimiter() {
                private int granted;

                @Override
                public CompletionStage<Void> acquire() {
                    return granted++ < size
                            ? CompletableFuture.completedFuture(null)
                            : new CompletableFuture<>();
                }
            };
        }
    }
}
