package io.slidestream.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;

/**
 * Options of the job as a whole: checkpointing, state backend, restarts, which slides it may open.
 */
public final class JobOptions {

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            key("job.checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "How often the job checkpoints. Iceberg commits and Kafka transactions"
                                    + " complete on checkpoints, so this bounds the latency of results.");

    public static final ConfigOption<Duration> CHECKPOINT_TIMEOUT =
            key("job.checkpoint-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(6))
                    .withDescription(
                            "How long a checkpoint may take before it is declined and the job"
                                    + " fails over. Longer than milvus.retry.max-wait (a Milvus"
                                    + " outage then ends in the sink's own clear error), and with"
                                    + " job.checkpoint-interval and "
                                    + SlideStreamConfig.RESTART_ALLOWANCE_TEXT
                                    + " for a restart within kafka.transaction-timeout (an open"
                                    + " Kafka transaction must outlive the longest checkpoint and"
                                    + " a restart, or its results are lost); the job refuses to"
                                    + " start otherwise.");

    public static final ConfigOption<Boolean> UNALIGNED_CHECKPOINTS =
            key("job.unaligned-checkpoints")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Checkpoint barriers that wait more than a second for alignment"
                                    + " overtake the tile tasks and embeddings buffered in front of"
                                    + " them (unaligned checkpoints; the overtaken records are"
                                    + " stored with the checkpoint). Without it a checkpoint, and"
                                    + " so every result's commit, waits behind whatever a large"
                                    + " slide has in flight.");

    public static final ConfigOption<String> STATE_BACKEND =
            key("job.state-backend")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "'hashmap' (state on the JVM heap, fast, for small runs) or 'rocksdb'"
                                    + " (state on local disk, for many large slides in flight)."
                                    + " Unset: the cluster's state.backend.type (hashmap locally).");

    public static final ConfigOption<String> CHECKPOINT_DIR =
            key("job.checkpoint-dir")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Where checkpoints are stored (file:///..., s3://...). Unset: the"
                                    + " cluster's execution.checkpointing.dir. On a cluster the job"
                                    + " refuses to start without one of the two; local runs without"
                                    + " them keep checkpoints in the JobManager's memory.");

    public static final ConfigOption<Integer> PARALLELISM =
            key("job.parallelism")
                    .intType()
                    .defaultValue(-1)
                    .withDescription(
                            "Parallelism of the tile operators; -1 takes the cluster's default.");

    /** How the job restarts after a failure. */
    public enum RestartStrategy {
        /** Whatever the cluster's configuration says (restart-strategy.*); nothing is forced. */
        CLUSTER,
        /**
         * Exponential delay from {@link #RESTART_DELAY} to one minute, reset after ten healthy
         * minutes, never exhausted: an outage of any length ends in recovery.
         */
        EXPONENTIAL_DELAY,
        /** {@link #RESTART_ATTEMPTS} attempts {@link #RESTART_DELAY} apart, then the job fails. */
        FIXED_DELAY,
        /** The first failure ends the job. */
        NONE
    }

    public static final ConfigOption<RestartStrategy> RESTART_STRATEGY =
            key("job.restart-strategy")
                    .enumType(RestartStrategy.class)
                    .defaultValue(RestartStrategy.CLUSTER)
                    .withDescription(
                            "CLUSTER (default for a job submitted to a cluster: the cluster's"
                                    + " restart-strategy.* applies), EXPONENTIAL_DELAY (default of"
                                    + " `run` and `demo`), FIXED_DELAY or NONE.");

    public static final ConfigOption<Integer> RESTART_ATTEMPTS =
            key("job.restart-attempts")
                    .intType()
                    .defaultValue(10)
                    .withDescription(
                            "Attempts of the FIXED_DELAY restart strategy before the job fails.");

    public static final ConfigOption<Duration> RESTART_DELAY =
            key("job.restart-delay")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(2))
                    .withDescription(
                            "Delay between FIXED_DELAY restarts; first delay of EXPONENTIAL_DELAY.");

    public static final ConfigOption<List<String>> ALLOWED_ROOTS =
            key("slides.allowed-roots")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "Folders the job may open slides from (';'-separated). An event whose"
                                    + " slide lies elsewhere fails with ACCESS_DENIED. Empty: any path.");

    public static final ConfigOption<Double> DEFAULT_MPP =
            key("slides.default-mpp")
                    .doubleType()
                    .noDefaultValue()
                    .withDescription(
                            "Resolution (micrometres per pixel) assumed for slides that record none"
                                    + " (no openslide.mpp, TIFF resolution or objective power). Without"
                                    + " it such slides fail with UNKNOWN_RESOLUTION.");

    private JobOptions() {}
}
