package io.slidestream.config;

import io.slidestream.aggregate.AggregateConfig;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.errors.SlideStreamException;
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
 * start: every area's typed config (tiling, inference, aggregation, Kafka, Milvus, Iceberg) plus
 * the job options. A bad value fails here with a message naming the key and the value, before any
 * operator runs.
 */
public final class SlideStreamConfig {
    private final TilingConfig tiling;
    private final InferenceConfig inference;
    private final AggregateConfig aggregate;
    private final KafkaConfig kafka;
    private final MilvusConfig milvus;
    private final IcebergConfig iceberg;
    private final Duration checkpointInterval;
    private final Duration checkpointTimeout;
    private final boolean unalignedCheckpoints;
    private final String stateBackend;
    private final String checkpointDir;
    private final int parallelism;
    private final JobOptions.RestartStrategy restartStrategy;
    private final int restartAttempts;
    private final Duration restartDelay;
    private final List<String> allowedRoots;
    private final SlideReader slideReader;
    private final boolean jpegHalfScale;
    private final Double defaultMpp;

    /**
     * What a failover adds to an open Kafka transaction's life after its checkpoint completed:
     * failure detection (Flink's heartbeat timeout is 50 s), the restart backoff (at most one
     * minute with EXPONENTIAL_DELAY, two with deploy/conf/flink-config.yaml) and restoring state.
     */
    public static final Duration RESTART_ALLOWANCE = Duration.ofMinutes(3);

    static final String RESTART_ALLOWANCE_TEXT = "3 minutes";

    private SlideStreamConfig(Configuration conf) {
        this.tiling = TilingConfig.fromConfiguration(conf);
        this.inference = InferenceConfig.fromConfiguration(conf);
        this.aggregate = AggregateConfig.fromConfiguration(conf);
        this.kafka = KafkaConfig.from(conf);
        this.milvus = MilvusConfig.fromConfiguration(conf);
        this.iceberg = IcebergConfig.fromConfiguration(conf);
        this.checkpointInterval = conf.get(JobOptions.CHECKPOINT_INTERVAL);
        this.checkpointTimeout = conf.get(JobOptions.CHECKPOINT_TIMEOUT);
        this.unalignedCheckpoints = conf.get(JobOptions.UNALIGNED_CHECKPOINTS);
        this.stateBackend =
                conf.getOptional(JobOptions.STATE_BACKEND)
                        .map(b -> b.toLowerCase(Locale.ROOT))
                        .orElse(null);
        this.checkpointDir = conf.get(JobOptions.CHECKPOINT_DIR);
        this.parallelism = conf.get(JobOptions.PARALLELISM);
        this.restartStrategy = conf.get(JobOptions.RESTART_STRATEGY);
        this.restartAttempts = conf.get(JobOptions.RESTART_ATTEMPTS);
        this.restartDelay = conf.get(JobOptions.RESTART_DELAY);
        this.allowedRoots = List.copyOf(conf.get(JobOptions.ALLOWED_ROOTS));
        this.slideReader = SlideReader.parse(conf.get(SlideReader.OPTION));
        this.jpegHalfScale = conf.get(SlideReader.JPEG_HALF_SCALE);
        this.defaultMpp = conf.get(JobOptions.DEFAULT_MPP);
        validate();
    }

    /** Reads and validates everything. */
    public static SlideStreamConfig from(Configuration conf) {
        try {
            return new SlideStreamConfig(conf);
        } catch (IllegalArgumentException e) {
            // Flink's typed reads throw this for a value they cannot parse; the message names the
            // key and the value ("Could not parse value 'x' for key 'job.parallelism'").
            throw InvalidConfig.unreadable(e);
        }
    }

    private void validate() {
        if (checkpointInterval.isNegative() || checkpointInterval.isZero()) {
            throw invalid(JobOptions.CHECKPOINT_INTERVAL.key(), checkpointInterval, "must be > 0");
        }
        if (checkpointTimeout.compareTo(milvus.maxRetryWait()) <= 0) {
            throw invalid(
                    JobOptions.CHECKPOINT_TIMEOUT.key(),
                    checkpointTimeout,
                    "must be longer than milvus.retry.max-wait ("
                            + milvus.maxRetryWait()
                            + "): a checkpoint waits for the Milvus sink, so a shorter timeout"
                            + " would decline checkpoints while the sink still retries");
        }
        Duration longestOpen = checkpointInterval.plus(checkpointTimeout).plus(RESTART_ALLOWANCE);
        if (kafka.transactionTimeout().compareTo(longestOpen) < 0) {
            throw invalid(
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
        }
        if (stateBackend != null
                && !stateBackend.equals("hashmap")
                && !stateBackend.equals("rocksdb")) {
            throw invalid(JobOptions.STATE_BACKEND.key(), stateBackend, "use hashmap or rocksdb");
        }
        if (parallelism == 0 || parallelism < -1) {
            throw invalid(JobOptions.PARALLELISM.key(), parallelism, "use -1 or a positive number");
        }
        if (restartAttempts < 0) {
            throw invalid(JobOptions.RESTART_ATTEMPTS.key(), restartAttempts, "must be >= 0");
        }
        if (defaultMpp != null && !(defaultMpp > 0 && defaultMpp < 100)) {
            throw invalid(
                    JobOptions.DEFAULT_MPP.key(),
                    defaultMpp,
                    "give micrometres per pixel, e.g. 0.5");
        }
    }

    private static SlideStreamException invalid(String key, Object value, String hint) {
        return InvalidConfig.of(key, value, "is invalid: " + hint);
    }

    public TilingConfig tiling() {
        return tiling;
    }

    public InferenceConfig inference() {
        return inference;
    }

    public AggregateConfig aggregate() {
        return aggregate;
    }

    public KafkaConfig kafka() {
        return kafka;
    }

    public MilvusConfig milvus() {
        return milvus;
    }

    public IcebergConfig iceberg() {
        return iceberg;
    }

    public Duration checkpointInterval() {
        return checkpointInterval;
    }

    public Duration checkpointTimeout() {
        return checkpointTimeout;
    }

    public boolean unalignedCheckpoints() {
        return unalignedCheckpoints;
    }

    /** The state backend the job asks for, or null for the cluster's. */
    public String stateBackend() {
        return stateBackend;
    }

    /** The checkpoint directory the job asks for, or null for the cluster's. */
    public String checkpointDir() {
        return checkpointDir;
    }

    public int parallelism() {
        return parallelism;
    }

    public JobOptions.RestartStrategy restartStrategy() {
        return restartStrategy;
    }

    public int restartAttempts() {
        return restartAttempts;
    }

    public Duration restartDelay() {
        return restartDelay;
    }

    /** How slide regions are read ({@code slides.reader}). */
    public SlideReader slideReader() {
        return slideReader;
    }

    /**
     * Whether JPEG tiles are decoded at half scale where possible ({@code slides.jpeg-half-scale}).
     */
    public boolean jpegHalfScale() {
        return jpegHalfScale;
    }

    public List<String> allowedRoots() {
        return allowedRoots;
    }

    public Double defaultMpp() {
        return defaultMpp;
    }

    @Override
    public String toString() {
        return "SlideStreamConfig{tiling="
                + tiling
                + ", inference="
                + inference
                + ", kafka="
                + kafka
                + ", milvus="
                + milvus
                + ", iceberg="
                + iceberg
                + ", stateBackend="
                + stateBackend
                + ", checkpointInterval="
                + checkpointInterval
                + "}";
    }
}
