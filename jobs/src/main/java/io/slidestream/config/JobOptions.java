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

    public static final ConfigOption<String> STATE_BACKEND =
            key("job.state-backend")
                    .stringType()
                    .defaultValue("hashmap")
                    .withDescription(
                            "'hashmap' (state on the JVM heap, fast, for small runs) or 'rocksdb'"
                                    + " (state on local disk, for many large slides in flight).");

    public static final ConfigOption<String> CHECKPOINT_DIR =
            key("job.checkpoint-dir")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Where checkpoints are stored (file:///..., s3://...). Without it the"
                                    + " JobManager keeps them in memory (local runs only).");

    public static final ConfigOption<Integer> PARALLELISM =
            key("job.parallelism")
                    .intType()
                    .defaultValue(-1)
                    .withDescription(
                            "Parallelism of the tile operators; -1 takes the cluster's default.");

    public static final ConfigOption<Integer> RESTART_ATTEMPTS =
            key("job.restart-attempts")
                    .intType()
                    .defaultValue(10)
                    .withDescription(
                            "How many times the job restarts from its last checkpoint before it"
                                    + " fails for good (fixed-delay strategy); 0 disables restarts.");

    public static final ConfigOption<Duration> RESTART_DELAY =
            key("job.restart-delay")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(2))
                    .withDescription("Delay between restart attempts.");

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
