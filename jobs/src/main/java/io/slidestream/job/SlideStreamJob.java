package io.slidestream.job;

import io.slidestream.aggregate.LiveHeads;
import io.slidestream.aggregate.SlideAggregator;
import io.slidestream.aggregate.SlideHeadFactory;
import io.slidestream.aggregate.SlideWindows;
import io.slidestream.config.ConfigKeys;
import io.slidestream.config.ConfigLoader;
import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.FailureModelStamp;
import io.slidestream.errors.SlideFailures;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.HeadCard;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.ModelCard;
import io.slidestream.inference.OnnxSlideHead;
import io.slidestream.inference.TileEmbedder;
import io.slidestream.inference.TileEmbeddingRouter;
import io.slidestream.runtime.JobClassLoaderCleanup;
import io.slidestream.runtime.JobManagerRelease;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.source.DecodedEventRouter;
import io.slidestream.source.HeadAnnouncementSource;
import io.slidestream.tiling.LatestScanGate;
import io.slidestream.tiling.SlidePlannerOperator;
import io.slidestream.tiling.SlideTiler;
import io.slidestream.tiling.TileCreditCoordinator;
import io.slidestream.tiling.TileCreditReturn;
import io.slidestream.types.SlideStreamTypes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;

/**
 * The SlideStream job: Kafka {@code slides.scanned} -> plan -> read + preprocess + embed -> tiles
 * to Milvus and Iceberg; keyed slide window -> slide results to Iceberg, Milvus and Kafka; every
 * failure to the dead letter. {@link #main} reads the configuration and builds the real source and
 * sinks; {@link #define} wires the graph and is shared with the tests and the embedded demo.
 *
 * <p>Operator uids are constants (here and on each operator class); changing one breaks restoring
 * from savepoints taken before the change.
 *
 * <p><b>Failed tiles.</b> A tile that cannot be read or embedded ({@link TileEmbedder}) becomes a
 * failure result that {@link TileEmbeddingRouter} turns into its slide's dead-letter record (one
 * per slide and subtask for read failures) and a failed-tile marker. The markers reach the slide
 * window only - never {@link JobSinks#tiles} - so a slide with a failed read closes as soon as all
 * its tiles are accounted for: no result if none was embedded, an incomplete one if some were.
 *
 * <p><b>Scans.</b> {@link SlideTiler} plans each scan once and issues removals for the tiles a
 * re-scan lacks; {@link LatestScanGate} drops whatever of a superseded scan is still in flight, in
 * front of both the tile sinks and the window (see docs/failure-contract.md).
 *
 * <p><b>Tile credits.</b> The planners emit tile tasks only within the job's budget ({@code
 * tiling.max-tiles-in-flight}), kept by the planner's {@link TileCreditCoordinator}; {@link
 * TileCreditReturn}, chained behind the embed stage, gives a credit back for every result.
 *
 * <p>Savepoint compatibility between versions: docs/upgrading.md.
 */
public final class SlideStreamJob {

    public static final String JOB_NAME = "SlideStream";
    public static final String SOURCE_UID = "kafka-slides-scanned";
    public static final String DECODE_UID = "decode-events";
    public static final String EMBED_FAILURES_UID = "embed-failures";
    public static final String TILE_WRITES_UID = "tile-writes";
    public static final String WINDOW_INPUT_UID = "window-input";
    public static final String HEADS_SOURCE_UID = "kafka-slides-heads";

    /** How long a barrier waits for alignment before it overtakes the buffered records. */
    public static final Duration ALIGNMENT_BEFORE_UNALIGNED = Duration.ofSeconds(1);

    /**
     * The network buffer size debloating starts from: a few tile tasks, not the 32 KB (over a
     * hundred tasks) of a full memory segment, so a backlog arriving at start is not swallowed by
     * the buffers before debloating has measured the throughput.
     */
    public static final MemorySize STARTING_BUFFER_SIZE = MemorySize.parse("1kb");

    private SlideStreamJob() {}

    /**
     * The settings of a local MiniCluster that runs this job ({@code run}, {@code demo}, the
     * ITCases), as {@code deploy/conf/flink-config.yaml} gives them to a real cluster:
     *
     * <ul>
     *   <li>network buffer debloating, starting from small buffers ({@link #STARTING_BUFFER_SIZE}):
     *       the buffers between operators adapt to about a second of throughput instead of holding
     *       32 KB each (with tile tasks of about 200 bytes about a thousand are still in flight
     *       between the planner and the embedder, measured in {@code BacklogITCase});
     *   <li>no leaked-class-loader check: on a MiniCluster the job's classes are the application's,
     *       and the check's wrapper, kept as context class loader by a library's static thread pool
     *       (Iceberg's worker pool), would break later reads in this JVM.
     * </ul>
     */
    public static Configuration localClusterSettings(Configuration conf) {
        conf.set(TaskManagerOptions.BUFFER_DEBLOAT_ENABLED, true);
        conf.set(TaskManagerOptions.STARTING_MEMORY_SEGMENT_SIZE, STARTING_BUFFER_SIZE);
        conf.set(CoreOptions.CHECK_LEAKED_CLASSLOADER, false);
        return conf;
    }

    /**
     * {@code SlideStreamJob [--config FILE] [-Dkey=value ...]}: runs the job against the Kafka,
     * Milvus and Iceberg named in the configuration (on a Flink cluster, or locally).
     */
    public static void main(String[] args) throws Exception {
        Path file = null;
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (args[i].startsWith("-D")) {
                overrides.add(args[i].substring(2));
            } else {
                throw new IllegalArgumentException(
                        "unknown argument '" + args[i] + "': use --config FILE and -Dkey=value");
            }
        }
        Configuration conf = ConfigLoader.load(file, ConfigLoader.parseOverrides(overrides));
        ConfigKeys.requireKnown(conf);
        SlideStreamConfig config = SlideStreamConfig.from(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        try {
            run(env, config);
        } finally {
            // On a session cluster main() ran inside the JobManager: let go of its class loader.
            JobClassLoaderCleanup.releaseAfterMain();
        }
    }

    /**
     * Prepares the stores, builds the graph on {@code env} with the real source and sinks, runs.
     * Refuses a cluster without a durable checkpoint directory (see {@link
     * #requireDurableCheckpoints}).
     */
    public static void run(StreamExecutionEnvironment env, SlideStreamConfig config)
            throws Exception {
        prepare(env, config);
        env.execute(JOB_NAME);
    }

    /** As {@link #run}, without waiting: the running job's client. */
    public static JobClient start(StreamExecutionEnvironment env, SlideStreamConfig config)
            throws Exception {
        prepare(env, config);
        return env.executeAsync(JOB_NAME);
    }

    private static void prepare(StreamExecutionEnvironment env, SlideStreamConfig config) {
        configure(env, config);
        requireDurableCheckpoints(env);
        IcebergCatalogs.ensureTables(config.iceberg());
        define(env, config, kafkaEvents(env, config), new StoreSinks(config));
    }

    /**
     * On a cluster, checkpoints must go to a durable directory: without one the JobManager keeps
     * them in its memory (capped at a few MB, lost with it), so a failover would lose the window
     * state and the exactly-once sinks' pending commits. Local environments ({@code run}, {@code
     * demo}) may keep them in memory.
     */
    public static void requireDurableCheckpoints(StreamExecutionEnvironment env) {
        if (env instanceof LocalStreamEnvironment) {
            return;
        }
        String dir = env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
        if (dir == null || dir.isBlank()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "SlideStream refuses to run on a Flink cluster without a durable checkpoint"
                            + " directory: set execution.checkpointing.dir in the cluster's"
                            + " config.yaml (see deploy/conf/flink-config.yaml) or "
                            + JobOptions.CHECKPOINT_DIR.key()
                            + " in the job's configuration (s3://..., hdfs://..., or a file:// path"
                            + " every JobManager and TaskManager shares)");
        }
    }

    /** The decoded {@code slides.scanned} events (bad records become failures, not errors). */
    public static DataStream<Either<SlideFailed, SlideScanned>> kafkaEvents(
            StreamExecutionEnvironment env, SlideStreamConfig config) {
        return env.fromSource(
                        config.kafka().sourceBuilder().build(),
                        WatermarkStrategy.noWatermarks(),
                        "Kafka " + config.kafka().scannedTopic())
                .uid(SOURCE_UID);
    }

    /**
     * Applies the job options to {@code env}: exactly-once checkpoints, the state backend and
     * restart strategy when the configuration asks for them (else the cluster's), no generic (Kryo)
     * types, object reuse (tensors are handed on by reference inside the read + embed chain instead
     * of being copied).
     */
    public static void configure(StreamExecutionEnvironment env, SlideStreamConfig config) {
        Configuration c = new Configuration();
        c.set(PipelineOptions.GENERIC_TYPES, false);
        c.set(PipelineOptions.OBJECT_REUSE, true);
        if (config.stateBackend() != null) {
            c.set(StateBackendOptions.STATE_BACKEND, config.stateBackend());
        }
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, config.checkpointTimeout());
        if (config.unalignedCheckpoints()) {
            c.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
            c.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, ALIGNMENT_BEFORE_UNALIGNED);
        }
        if (config.checkpointDir() != null) {
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointDir());
        }
        switch (config.restartStrategy()) {
            case CLUSTER -> {}
            case NONE -> c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            case FIXED_DELAY -> {
                c.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
                c.set(
                        RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS,
                        config.restartAttempts());
                c.set(
                        RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                        config.restartDelay());
            }
            case EXPONENTIAL_DELAY -> {
                c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
                c.set(
                        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                        config.restartDelay());
                c.set(
                        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                        Duration.ofMinutes(1));
                c.set(
                        RestartStrategyOptions
                                .RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
                        Duration.ofMinutes(10));
                c.set(
                        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS,
                        Integer.MAX_VALUE);
            }
        }
        env.configure(c);
        env.enableCheckpointing(
                config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        if (config.parallelism() > 0) {
            env.setParallelism(config.parallelism());
        }
    }

    /** Wires the pipeline from decoded events to {@code sinks}. */
    public static void define(
            StreamExecutionEnvironment env,
            SlideStreamConfig config,
            DataStream<Either<SlideFailed, SlideScanned>> events,
            JobSinks sinks) {
        SingleOutputStreamOperator<SlideScanned> scanned =
                events.process(new DecodedEventRouter())
                        .uid(DECODE_UID)
                        .name("Decode slides.scanned events");

        // The planners emit tile tasks only within this budget; every result of the embed stage
        // returns its task's credit.
        TileCreditCoordinator.Budget budget =
                TileCreditCoordinator.Budget.of(config.tiling(), config.inference().capacity());

        // Keyed by slide so the planner can keep a slide's remaining tasks in state and emit them
        // chunk by chunk, letting checkpoint barriers through between chunks.
        // The pass-through in front of the planner carries the JobManager-side cleanup.
        SingleOutputStreamOperator<TileTask> tasks =
                JobManagerRelease.attach(scanned)
                        .keyBy(SlideScanned::getSlideId, Types.STRING)
                        .transform(
                                SlideTiler.NAME,
                                SlideStreamTypes.TILE_TASK,
                                SlidePlannerOperator.factory(
                                        new SlideTiler(
                                                config.tiling(),
                                                config.allowedRoots(),
                                                config.slideReader(),
                                                config.defaultMpp(),
                                                config.inference().modelPath()),
                                        budget))
                        .uid(SlideTiler.UID)
                        .name(SlideTiler.NAME);

        // Tile tasks are tiny: spread them over every slot. Reading, preprocessing and embedding
        // happen inside the async embed operator, so pixels and tensors never cross the network and
        // its checkpointed in-flight inputs are tasks, not tensors.
        SingleOutputStreamOperator<TileEmbeddingResult> embedded =
                TileCreditReturn.attach(
                        TileEmbedder.embed(
                                        tasks.rebalance(),
                                        config.inference(),
                                        config.allowedRoots(),
                                        config.slideReader(),
                                        config.jpegHalfScale())
                                .uid(TileEmbedder.UID)
                                .name(TileEmbedder.NAME),
                        budget);

        SingleOutputStreamOperator<TileEmbedding> tiles =
                embedded.process(new TileEmbeddingRouter())
                        .uid(TileEmbeddingRouter.UID)
                        .name(TileEmbeddingRouter.NAME);

        // Everything that writes tiles or closes a slide passes the latest-scan gate, keyed by
        // slide: embeddings, the failed-tile markers (tiles that will never have an embedding, so
        // their slide closes at once instead of at its timeout) and the planner's removals of an
        // earlier scan's tiles. Behind it nothing is shuffled again, so per key the stores apply
        // records in the order the gate let them through.
        SingleOutputStreamOperator<TileEmbedding> latestScan =
                tiles.union(
                                tiles.getSideOutput(TileEmbeddingRouter.FAILED_TILE_MARKERS),
                                tasks.getSideOutput(SlideTiler.REMOVED))
                        .keyBy(new SlideWindows.SlideIdKey(), Types.STRING)
                        .process(new LatestScanGate(config.tiling()))
                        .uid(LatestScanGate.UID)
                        .name(LatestScanGate.NAME);

        // The tile sinks see embeddings and removals, never failed-tile or forget markers.
        sinks.tiles(
                latestScan
                        .filter(tile -> !tile.failed() && !tile.forgotten)
                        .uid(TILE_WRITES_UID)
                        .name("Tile writes and removals"));

        // The window sees embeddings, failed-tile and forget markers, never removals; same key,
        // same partitioning.
        SingleOutputStreamOperator<TileEmbedding> windowInput =
                latestScan
                        .filter(tile -> !tile.removed)
                        .uid(WINDOW_INPUT_UID)
                        .name("Tiles and failed-tile markers");
        SingleOutputStreamOperator<SlideResult> results =
                SlideWindows.aggregate(
                        DataStreamUtils.reinterpretAsKeyedStream(
                                windowInput, new SlideWindows.SlideIdKey(), Types.STRING),
                        config.aggregate(),
                        slideHead(config.inference()));
        if (config.aggregate().liveHeads()) {
            // Heads deployed while the job runs: their announcements are broadcast to every
            // instance, which keeps the live set in broadcast state.
            BroadcastStream<String> heads =
                    env.fromSource(
                                    HeadAnnouncementSource.create(
                                            config.kafka().bootstrapServers(),
                                            config.kafka().headsTopic(),
                                            config.kafka().groupId(),
                                            config.kafka().clientPropertiesAsProperties()),
                                    WatermarkStrategy.noWatermarks(),
                                    "Kafka " + config.kafka().headsTopic())
                            .uid(HEADS_SOURCE_UID)
                            .setParallelism(1)
                            .broadcast(LiveHeads.STATE);
            SingleOutputStreamOperator<SlideResult> live =
                    results.getSideOutput(SlideAggregator.BAGS)
                            .connect(heads)
                            .process(
                                    new LiveHeads(config.aggregate(), config.inference()),
                                    SlideStreamTypes.SLIDE_RESULT)
                            .uid(LiveHeads.UID)
                            .name(LiveHeads.NAME);
            sinks.slides(results, live);
        } else {
            sinks.slides(results);
        }

        DataStream<SlideFailed> embedFailures =
                tiles.getSideOutput(TileEmbeddingRouter.FAILED_TILES)
                        .map(new EmbedFailure(), SlideStreamTypes.SLIDE_FAILED)
                        .uid(EMBED_FAILURES_UID)
                        .name("Tile embedding failures");
        sinks.failures(
                scanned.getSideOutput(DecodedEventRouter.MALFORMED)
                        .union(
                                tasks.getSideOutput(SlideTiler.FAILED),
                                embedFailures,
                                SlideWindows.failures(results))
                        .map(
                                new FailureModelStamp(config.inference().modelPath()),
                                SlideStreamTypes.SLIDE_FAILED)
                        .uid(FailureModelStamp.UID)
                        .name(FailureModelStamp.NAME));
    }

    /**
     * The ABMIL slide head from {@code inference.slide-head-path}, or none. A head with its card
     * ({@code head.onnx} beside {@code head.json}) must have been trained on the job's model: a
     * head scores one model's embeddings, and after a new model is promoted only its heads may
     * predict.
     *
     * @throws SlideStreamException {@code MODEL_INVALID} for a head of another model
     */
    static SlideHeadFactory slideHead(InferenceConfig inference) {
        if (inference.slideHeadPath().isEmpty()) {
            return null;
        }
        requireHeadOfModel(inference.slideHeadPath().get(), inference.modelPath());
        // Only serializable values are captured: the path as a string and the config.
        String path = inference.slideHeadPath().get().toString();
        return () -> OnnxSlideHead.open(Path.of(path), inference);
    }

    /**
     * Refuses a carded head trained on another model than {@code model}; heads without a card, or
     * files this process cannot see (a cluster's paths may exist only on the TaskManagers), pass.
     */
    static void requireHeadOfModel(Path head, Path model) {
        Path dir = head.toAbsolutePath().getParent();
        if (!head.getFileName().toString().equals(HeadCard.MODEL_FILE)
                || dir == null
                || !Files.isRegularFile(dir.resolve(HeadCard.FILE))
                || !Files.isRegularFile(model)) {
            return;
        }
        HeadCard card = HeadCard.read(dir);
        String modelId = ModelCard.idOf(model);
        if (!card.modelId().equals(modelId)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "slide head "
                            + card.headId()
                            + " ("
                            + head
                            + ") was trained on embeddings of model "
                            + card.modelId()
                            + ", but the job embeds with "
                            + modelId
                            + ": train a head for this model (`slidestream heads train --model-id "
                            + modelId
                            + "`) or leave "
                            + InferenceOptions.SLIDE_HEAD_PATH.key()
                            + " out");
        }
    }

    /** A tile that failed to read or embed, as a dead-letter record of its slide. */
    static final class EmbedFailure implements MapFunction<TileEmbeddingResult, SlideFailed> {
        private static final long serialVersionUID = 1L;

        @Override
        public SlideFailed map(TileEmbeddingResult failed) {
            TileTask t = failed.task;
            return SlideFailures.of(
                    t.slideId,
                    t.uri,
                    failed.errorCode,
                    "tile "
                            + t.tileIndex
                            + " at ("
                            + t.x
                            + ", "
                            + t.y
                            + "): "
                            + failed.errorMessage,
                    failed.stage == null ? SlideFailures.STAGE_EMBED : failed.stage,
                    System.currentTimeMillis());
        }
    }
}
