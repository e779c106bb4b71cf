package io.slidestream.config;

import static io.slidestream.settings.ConfigBuilder.read;

import io.slidestream.aggregate.AggregateConfig;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.slide.SlideReader;
import io.slidestream.tiling.TilingConfig;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.flink.configuration.Configuration;

/**
 * The whole job's configuration, read once from a Flink {@link Configuration} and validated at
 * start: every area's typed config plus the {@link JobOptions} ({@code stateBackend} and {@code
 * checkpointDir} null for the cluster's), {@code slides.reader} and {@code slides.jpeg-half-scale}.
 * A bad value fails here with a message naming the key and the value, before any operator runs.
 */
public record SlideStreamConfig(
        TilingConfig tiling,
        InferenceConfig inference,
        AggregateConfig aggregate,
        KafkaConfig kafka,
        MilvusConfig milvus,
        IcebergConfig iceberg,
        Duration checkpointInterval,
        Duration checkpointTimeout,
        boolean unalignedCheckpoints,
        String stateBackend,
        String checkpointDir,
        int parallelism,
        JobOptions.RestartStrategy restartStrategy,
        int restartAttempts,
        Duration restartDelay,
        List<String> allowedRoots,
        SlideReader slideReader,
        boolean jpegHalfScale,
        Double defaultMpp) {

    /**
     * What a failover adds to an open Kafka transaction's life after its checkpoint completed:
     * failure detection (Flink's heartbeat timeout is 50 s), the restart backoff (at most one
     * minute with EXPONENTIAL_DELAY, two with deploy/conf/flink-config.yaml) and restoring state.
     */
    public static final Duration RESTART_ALLOWANCE = Duration.ofMinutes(3);

    static final String RESTART_ALLOWANCE_TEXT = "3 minutes";

    public SlideStreamConfig {
        allowedRoots = List.copyOf(allowedRoots);
        stateBackend = stateBackend == null ? null : stateBackend.toLowerCase(Locale.ROOT);
        check(
                !checkpointInterval.isNegative() && !checkpointInterval.isZero(),
                JobOptions.CHECKPOINT_INTERVAL.key(),
                checkpointInterval,
                "must be > 0");
        check(
                checkpointTimeout.compareTo(milvus.maxRetryWait()) > 0,
                JobOptions.CHECKPOINT_TIMEOUT.key(),
                checkpointTimeout,
                "must be longer than milvus.retry.max-wait ("
                        + milvus.maxRetryWait()
                        + "): a checkpoint waits for the Milvus sink, so a shorter timeout"
                        + " would decline checkpoints while the sink still retries");
        Duration longestOpen = checkpointInterval.plus(checkpointTimeout).plus(RESTART_ALLOWANCE);
        check(
                kafka.transactionTimeout().compareTo(longestOpen) >= 0,
                KafkaOptions.TRANSACTION_TIMEOUT.key(),
                kafka.transactionTimeout(),
                "a Kafka transaction stays open for up to job.checkpoint-interval ("
                        + checkpointInterval
                        + ") + job.checkpoint-timeout ("
                        + checkpointTimeout
                        + ") + "
                        + RESTART_ALLOWANCE_TEXT
                        + " for a restart = "
                        + longestOpen
                        + "; Kafka aborts it after kafka.transaction-timeout and its results"
                        + " would be lost. Raise kafka.transaction-timeout (at most the"
                        + " broker's transaction.max.timeout.ms, 15 min by default) or lower"
                        + " job.checkpoint-timeout / milvus.retry.max-wait");
        check(
                stateBackend == null
                        || stateBackend.equals("hashmap")
                        || stateBackend.equals("rocksdb"),
                JobOptions.STATE_BACKEND.key(),
                stateBackend,
                "use hashmap or rocksdb");
        check(
                parallelism > 0 || parallelism == -1,
                JobOptions.PARALLELISM.key(),
                parallelism,
                "use -1 or a positive number");
        check(
                restartAttempts >= 0,
                JobOptions.RESTART_ATTEMPTS.key(),
                restartAttempts,
                "must be >= 0");
        check(
                defaultMpp == null || (defaultMpp > 0 && defaultMpp < 100),
                JobOptions.DEFAULT_MPP.key(),
                defaultMpp,
                "give micrometres per pixel, e.g. 0.5");
    }

    /** Reads and validates everything. */
    public static SlideStreamConfig from(Configuration conf) {
        return new SlideStreamConfig(
                TilingConfig.from(conf),
                InferenceConfig.from(conf),
                AggregateConfig.from(conf),
                KafkaConfig.from(conf),
                MilvusConfig.from(conf),
                IcebergConfig.from(conf),
                read(conf, JobOptions.CHECKPOINT_INTERVAL),
                read(conf, JobOptions.CHECKPOINT_TIMEOUT),
                read(conf, JobOptions.UNALIGNED_CHECKPOINTS),
                conf.getOptional(JobOptions.STATE_BACKEND).orElse(null),
                read(conf, JobOptions.CHECKPOINT_DIR),
                read(conf, JobOptions.PARALLELISM),
                read(conf, JobOptions.RESTART_STRATEGY),
                read(conf, JobOptions.RESTART_ATTEMPTS),
                read(conf, JobOptions.RESTART_DELAY),
                read(conf, JobOptions.ALLOWED_ROOTS),
                reader(conf),
                read(conf, SlideReader.JPEG_HALF_SCALE),
                read(conf, JobOptions.DEFAULT_MPP));
    }

    private static SlideReader reader(Configuration conf) {
        return SlideReader.parse(read(conf, SlideReader.OPTION));
    }

    private static void check(boolean ok, String key, Object value, String hint) {
        if (!ok) {
            throw InvalidConfig.of(key, value, "is invalid: " + hint);
        }
    }
}
