package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.config.ConfigLoader;
import io.slidestream.config.JobOptions;
import io.slidestream.config.KafkaOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.ClusterStack;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.local.cluster.S3ProxyServer;
import io.slidestream.local.cluster.SparkQueries;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergMaintenance;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.commons.io.FileUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * SlideStream on a real multi-process cluster, under real faults. One {@link ClusterStack} is
 * shared by both cases: S3Proxy (Iceberg warehouse, checkpoints, savepoints), Iceberg's REST
 * catalog server, a Kafka broker, Milvus Lite, and a Flink 2.1 standalone session cluster of one
 * JobManager and two TaskManagers, each its own JVM, configured from the shipped {@code
 * deploy/conf/flink-config.yaml}. The job jar ({@code jobs/target/slidestream-job.jar}) is uploaded
 * and run through Flink's REST API with a job configuration file, as a user does.
 *
 * <ol>
 *   <li>The session cluster runs job after job: {@value #DEFAULT_RESUBMISSIONS} submissions ({@code
 *       cluster.resubmissions}) each start first time (no restart, no exception) and are cancelled;
 *       after the last, no job class loader is left in any process and each process's metaspace,
 *       after a full GC, is where it was after the first job. Every second submission runs on a
 *       JDBC (SQLite) catalog with a {@code file://} warehouse and checkpoints and embeds a slide
 *       first.
 *   <li>Twenty-odd slides (one of nearly 1,000 tiles) and one corrupt file stream through a series
 *       of faults, a wave of slides in flight during each: a TaskManager killed with SIGKILL (and a
 *       replacement started), twice; the object store stopped for {@code cluster.outage-seconds}
 *       (30 s); Kafka's broker restarted; Milvus stopped for longer than the sink's retry window
 *       (no failover: the unsent writes ride in the checkpoints); the job stopped with a savepoint
 *       and resumed from it; the job cancelled and resubmitted without one. After each wave every
 *       slide so far is exactly once in Iceberg (read back from the tables), Milvus and {@code
 *       slides.results} (read_committed), and the dead letter holds the corrupt file only. The job
 *       maintains its tables every 3 checkpoints throughout (compaction, expiry, orphan files), so
 *       faults land on maintenance in progress; after the last one a compaction spends the last
 *       deletes and every row is still there once.
 * </ol>
 *
 * Logs of every process stay under {@code integration-tests/target/cluster-chaos} for diagnosis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ClusterChaosITCase {
    static final int DEFAULT_RESUBMISSIONS = 10;

    private static final boolean OLD_OBJECTS = Boolean.getBoolean("cluster.jfr-old-objects");
    private static final String JDBC_SCANNED = "jdbc.scanned";
    private static final String JDBC_RESULTS = "jdbc.results";

    /**
     * Metaspace a TaskManager may gain over ten jobs; one leaked job class loader holds ~27 MiB.
     */
    static final long METASPACE_SLACK = 16L << 20;

    /** Tissue tiles of the large slide (34 x 29 on the 256 px grid). */
    static final int LARGE_TILES = 986;

    private static final Duration WAVE_TIMEOUT = Duration.ofMinutes(6);

    private final Random random = new Random(Long.getLong("cluster.seed", 7));
    private ClusterStack stack;
    private FlinkRestClient rest;
    private String jar;

    /**
     * The job configuration submitted; the faults case switches to {@link #maintainedJobConfig}.
     */
    private Path jobConfig;

    private Path maintainedJobConfig;
    private SlideStreamConfig config;
    private Path inbox;

    /** Good slides published so far, with their planned tiles. */
    private final Map<String, Integer> planned = new TreeMap<>();

    /** Ids of the corrupt slides published so far. */
    private final Set<String> bad = new HashSet<>();

    @BeforeAll
    void startCluster() throws IOException {
        Path dir = Path.of("target", "cluster-chaos").toAbsolutePath();
        FileUtils.deleteDirectory(dir.toFile());
        ClusterStack.Options options = new ClusterStack.Options();
        options.taskManagers = 2;
        options.slotsPerTaskManager = 1;
        // Softly reachable caches (Java serialization's class descriptors of a deserialized job
        // graph, reflection data) go at the first full GC, so readings show what is strongly
        // reachable: what a JVM would keep even when metaspace runs out.
        String jvm = "-XX:SoftRefLRUPolicyMSPerMB=0" + oldObjectRecording();
        options.flinkSettings =
                Map.of(
                        "env.java.opts.taskmanager",
                        jvm,
                        "env.java.opts.jobmanager",
                        jvm,
                        // Outages here last a minute: cap the shipped backoff (2 min) so that
                        // recovery follows an outage within seconds, not minutes.
                        "restart-strategy.exponential-delay.max-backoff",
                        "15 s",
                        // Every failure of a wave is counted from the exception history.
                        "web.exception-history-size",
                        "1000");
        stack = ClusterStack.start(dir, options);
        rest = stack.flink().rest();
        inbox = Files.createDirectories(dir.resolve("inbox"));
        Map<String, String> settings =
                ClusterStack.faultRunJobSettings(
                        TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx"), inbox);
        jobConfig = stack.writeJobConfig("chaos", settings);
        // The faults case: the job maintains its tables every 3 checkpoints (6 s), so faults
        // land on compactions, expiries and orphan cleanups in progress.
        Map<String, String> maintained = new LinkedHashMap<>(settings);
        maintained.put(IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS.key(), "3");
        maintained.put(IcebergOptions.MAINTENANCE_MIN_SMALL_FILES.key(), "2");
        maintained.put(IcebergOptions.MAINTENANCE_SNAPSHOT_MAX_AGE.key(), "0 s");
        maintainedJobConfig = stack.writeJobConfig("chaos-maintained", maintained);
        config = SlideStreamConfig.from(ConfigLoader.load(jobConfig, Map.of()));
        jar = rest.uploadJar(stack.testbed().jobJar());
    }

    @AfterAll
    void stopCluster() {
        if (stack != null) {
            stack.close();
        }
    }

    /**
     * Job after job on one session cluster. Odd submissions use the REST catalog with the warehouse
     * and checkpoints on S3 and run to their first completed checkpoint. Even ones use a JDBC
     * (SQLite) catalog with a {@code file://} warehouse and checkpoints and embed one slide to its
     * committed result, so the SQLite driver, Hadoop's local file system, Iceberg's pools and the
     * Milvus client have all been used. Each starts first time and is cancelled; after the last no
     * job class loader is left in any process.
     *
     * <p>A job whose tasks dominate the JIT compiler's profile of the JDK's worker loop would stay
     * in every idle pool thread parked in that loop's compiled code (the TaskManagers' I/O
     * threads), about one JDBC job in 90, were the loop compiled: the shipped JVM options keep it
     * interpreted ({@link IdleWorkerClassLoaderITCase}). {@code -Dcluster.jfr-old-objects=true}
     * adds JFR's paths to GC roots to the diagnosis of a kept loader.
     */
    @Test
    @Order(1)
    void sessionClusterRunsJobAfterJobWithoutLeakingMetaspace() throws Exception {
        int submissions = Integer.getInteger("cluster.resubmissions", DEFAULT_RESUBMISSIONS);
        Path jdbcConfig = jdbcJobConfig();
        Map<String, Long> baseline = new TreeMap<>();
        try (SlidePublisher publisher =
                        SlidePublisher.builder()
                                .bootstrapServers(stack.kafka().bootstrapServers())
                                .topic(JDBC_SCANNED)
                                .build();
                CommittedTopic<SlideResult> results =
                        new CommittedTopic<>(
                                stack.kafka().bootstrapServers(),
                                JDBC_RESULTS,
                                AvroCodec.SLIDE_RESULT)) {
            Set<String> seen = new HashSet<>();
            for (int round = 1; round <= submissions; round++) {
                long started = System.nanoTime();
                String job;
                String what;
                if (round % 2 == 1) {
                    what = "REST catalog on S3, checkpointed";
                    job = submit(null);
                    // Running with a completed checkpoint: every source, writer and committer
                    // is up.
                    String running = job;
                    awaitCondition(
                            "job " + job + " checkpointed",
                            Duration.ofMinutes(3),
                            () -> rest.completedCheckpoints(running) >= 1,
                            () -> checkpointDiagnosis(running));
                } else {
                    Slide slide = small("jdbc-" + round);
                    what = "JDBC catalog, embedded " + slide.id();
                    publisher.publish(slide.file(), slide.id());
                    job = rest.run(jar, List.of("--config", jdbcConfig.toString()), null);
                    String running = job;
                    awaitCondition(
                            "the result of " + slide.id() + " from job " + job,
                            Duration.ofMinutes(3),
                            () -> {
                                results.poll().forEach(r -> seen.add(r.getSlideId()));
                                return seen.contains(slide.id());
                            },
                            () -> checkpointDiagnosis(running));
                }
                assertThat(rest.restarts(job)).as("restarts of submission %s", round).isZero();
                assertThat(rest.exceptions(job)).as("failures of submission %s", round).isEmpty();
                double seconds = (System.nanoTime() - started) / 1e9;
                cancelAndAwaitSlotsFree(job);
                // Class loaders and metaspace after the first job (the baseline) and after the
                // last (a loader any job left is still there then): each check is a few full
                // GCs and jcmd runs per process, a quarter of a round on a 2-core machine.
                if (round > 1 && round < submissions) {
                    System.out.printf(
                            "ClusterChaosITCase: submission %d (%s) after %.1f s%n",
                            round, what, seconds);
                    continue;
                }
                Map<String, Long> metaspace = awaitNoJobClassLoaders(round);
                metaspace.forEach((process, bytes) -> baseline.putIfAbsent(process, bytes));
                System.out.printf(
                        "ClusterChaosITCase: submission %d (%s) after %.1f s, metaspace after GC"
                                + " %s MiB%n",
                        round, what, seconds, mib(metaspace));
                for (String process : metaspace.keySet()) {
                    assertThat(metaspace.get(process))
                            .as(
                                    "%s metaspace after submission %d (after the first: %d MiB)",
                                    process, round, baseline.get(process) >> 20)
                            .isLessThanOrEqualTo(baseline.get(process) + METASPACE_SLACK);
                }
            }
        }
    }

    /**
     * The job configuration of the JDBC-catalog submissions: a SQLite catalog, a {@code file://}
     * warehouse read and written through Hadoop's file system, {@code file://} checkpoints, and
     * topics, consumer group and Milvus collections of their own.
     */
    private Path jdbcJobConfig() throws IOException {
        Path local = Files.createDirectories(stack.dir().resolve("jdbc-catalog"));
        Map<String, String> settings =
                new LinkedHashMap<>(
                        ClusterStack.faultRunJobSettings(
                                TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx"), inbox));
        settings.put(IcebergOptions.CATALOG_TYPE.key(), "jdbc");
        settings.put(IcebergOptions.URI.key(), "jdbc:sqlite:" + local.resolve("catalog.db"));
        settings.put(IcebergOptions.WAREHOUSE.key(), local.resolve("warehouse").toUri().toString());
        settings.put(
                IcebergOptions.CATALOG_PROPERTIES.key() + ".io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO");
        settings.put(
                JobOptions.CHECKPOINT_DIR.key(), local.resolve("checkpoints").toUri().toString());
        settings.put(KafkaOptions.TOPIC_SCANNED.key(), JDBC_SCANNED);
        settings.put(KafkaOptions.TOPIC_RESULTS.key(), JDBC_RESULTS);
        settings.put(KafkaOptions.TOPIC_DEAD_LETTER.key(), "jdbc.dead-letter");
        settings.put(KafkaOptions.GROUP_ID.key(), "slidestream-jdbc");
        settings.put(KafkaOptions.TRANSACTIONAL_ID_PREFIX.key(), "slidestream-jdbc");
        settings.put(MilvusOptions.TILES_COLLECTION.key(), "jdbc_tiles");
        settings.put(MilvusOptions.SLIDES_COLLECTION.key(), "jdbc_slides");
        stack.kafka().createTopics(2, JDBC_SCANNED);
        stack.kafka().createTopics(1, JDBC_RESULTS, "jdbc.dead-letter");
        return stack.writeJobConfig("jdbc", settings);
    }

    /**
     * Waits until no job class loader is left in any TaskManager or the JobManager (each job class
     * loader goes once the job has ended everywhere: the JobMaster closed, each TaskManager
     * released its slots); returns each process's metaspace after a full GC. It waits a minute per
     * process; {@code -Dcluster.loader-wait-seconds=N} waits longer, to tell a loader kept for good
     * from one released late, or to attach {@code jhsdb} to a process that keeps one.
     */
    private Map<String, Long> awaitNoJobClassLoaders(int round) {
        Map<String, Long> metaspace = new TreeMap<>();
        List<String> processes = new ArrayList<>(stack.flink().runningTaskManagers());
        processes.add("jobmanager");
        for (String process : processes) {
            awaitCondition(
                    "no job class loader left in " + process + " after submission " + round,
                    Duration.ofSeconds(Long.getLong("cluster.loader-wait-seconds", 60)),
                    () -> stack.flink().jobClassLoaders(process) == 0,
                    () -> leakDiagnosis(process));
            metaspace.put(process, stack.flink().metaspaceAfterGc(process));
        }
        return metaspace;
    }

    @Test
    @Order(2)
    void streamsThroughFaultsWithEverySlideExactlyOnce() throws Exception {
        try (SlidePublisher publisher =
                        SlidePublisher.builder()
                                .bootstrapServers(stack.kafka().bootstrapServers())
                                .topic(ClusterStack.SCANNED_TOPIC)
                                .build();
                CommittedTopic<SlideResult> results = stack.committedResults();
                CommittedTopic<SlideFailed> deadLetters = stack.committedDeadLetters()) {
            Waves waves = new Waves(publisher, results, deadLetters);
            jobConfig = maintainedJobConfig;
            waves.job = submit(null);
            awaitCondition(
                    "job running", Duration.ofMinutes(3), () -> rest.allTasksRunning(waves.job));

            // 1. A TaskManager killed at a random moment while the large slide is in flight.
            waves.run(
                    "TaskManager SIGKILL (1)",
                    List.of(large("large"), small("s01"), small("s02"), corrupt("corrupt")),
                    () -> killTaskManager(waves.job));
            // 2. Again, the replacement started for the first kill now among the candidates.
            waves.run(
                    "TaskManager SIGKILL (2)",
                    List.of(small("s03"), small("s04"), small("s05")),
                    () -> killTaskManager(waves.job));
            // 3. The object store (warehouse, checkpoints) away for half a minute.
            waves.run(
                    "object store down " + outage().toSeconds() + " s",
                    List.of(small("s06"), small("s07"), small("s08")),
                    () -> {
                        stack.objectStore().stop();
                        pause(outage());
                        stack.objectStore().start();
                        return "";
                    });
            // 4. Kafka's broker restarted (transactions in flight are aborted).
            waves.run(
                    "Kafka broker restart",
                    List.of(small("s09"), small("s10"), small("s11")),
                    () -> {
                        stack.kafka().stop();
                        stack.kafka().start();
                        return "";
                    });
            // 5. Milvus away, from the moment the wave is announced, for three times the sink's
            // retry window (milvus.retry.max-wait = 10 s): the sinks keep the unsent writes in
            // their checkpoints, the job goes on without failing over, and everything reaches
            // Milvus once it is back.
            waves.runWithFaultAtOnce(
                    "Milvus down 30 s",
                    List.of(small("s12"), small("s13"), small("s14")),
                    () -> {
                        stack.stopMilvus();
                        pause(Duration.ofSeconds(30));
                        stack.startMilvus();
                        return "";
                    });
            // 6. The upgrade path: stop with a savepoint, resume from it.
            waves.run(
                    "stop with savepoint, resume",
                    List.of(small("s15"), small("s16"), small("s17")),
                    () -> {
                        String savepoint =
                                rest.stopWithSavepoint(waves.job, null, Duration.ofMinutes(3));
                        awaitCondition(
                                "job finished",
                                Duration.ofMinutes(1),
                                () -> rest.jobState(waves.job).equals("FINISHED"));
                        waves.job = submit(savepoint);
                        return "resumed from " + savepoint;
                    });
            // 7. Cancelled (no savepoint) once all is committed, resubmitted: it goes on from
            // the offsets its checkpoints committed, with nothing replayed and nothing lost.
            waves.settle();
            long checkpoints = rest.completedCheckpoints(waves.job);
            awaitCondition(
                    "a checkpoint after the last result",
                    Duration.ofMinutes(1),
                    () -> rest.completedCheckpoints(waves.job) > checkpoints,
                    () -> checkpointDiagnosis(waves.job));
            // ... and the source has committed its offsets to Kafka, which it does after the
            // checkpoint, asynchronously: a fresh job starts from them.
            awaitCondition(
                    "the job's offsets committed to Kafka up to the last event",
                    Duration.ofMinutes(1),
                    () -> stack.scannedOffsetsCommitted(KafkaOptions.GROUP_ID.defaultValue()));
            long lastFault = System.currentTimeMillis();
            cancelAndAwaitSlotsFree(waves.job);
            waves.job = submit(null);
            waves.run(
                    "cancelled, resubmitted",
                    List.of(small("s18"), small("s19"), small("s20")),
                    null);

            assertThat(planned).hasSizeGreaterThanOrEqualTo(20);
            // Maintenance went on through the faults: the resubmitted job compacts, spending the
            // last wave's deletes, and every row is still there exactly once.
            awaitCondition(
                    "a compaction of tiles after the faults, no delete file left",
                    Duration.ofMinutes(2),
                    () -> compactedSince(lastFault));
            StoreContents.assertExactlyOnce(config, planned);
            assertSparkReadsEverySlideOnce();
            waves.report();
        }
    }

    /**
     * The tables as an analyst's Spark reads them through the REST catalog on S3: every planned
     * slide with all its tiles, no tile key twice, one slide row, and no other slide.
     */
    private void assertSparkReadsEverySlideOnce() throws Exception {
        Map<String, SparkQueries.Answer> answers =
                SparkQueries.run(
                        Path.of(getClass().getResource("/exactly-once.sql").toURI()),
                        config.iceberg(),
                        S3ProxyServer.CLIENT_ENVIRONMENT,
                        stack.dir().resolve("spark-readback.log"));
        Map<String, Integer> tiles = new TreeMap<>();
        for (JsonNode row : answers.get("tiles").rows()) {
            assertThat(row.path("keys").asInt())
                    .as("distinct tile keys of %s read by Spark", row.path("slide_id").asText())
                    .isEqualTo(row.path("n").asInt());
            tiles.put(row.path("slide_id").asText(), row.path("n").asInt());
        }
        assertThat(tiles).as("tile rows per slide read by Spark").isEqualTo(planned);
        Map<String, Integer> slides = new TreeMap<>();
        for (JsonNode row : answers.get("slides").rows()) {
            slides.put(row.path("slide_id").asText(), row.path("n").asInt());
        }
        assertThat(slides.keySet()).as("slide rows read by Spark").isEqualTo(planned.keySet());
        assertThat(slides.values()).as("slide rows per slide").containsOnly(1);
        System.out.printf(
                "ClusterChaosITCase: Spark read %d slides, %d tile rows, each once (%d + %d ms)%n",
                slides.size(),
                tiles.values().stream().mapToInt(Integer::intValue).sum(),
                answers.get("tiles").millis(),
                answers.get("slides").millis());
    }

    /** Slides of one wave, announced together; the fault starts once the first tiles are in. */
    private final class Waves {
        final SlidePublisher publisher;
        final CommittedTopic<SlideResult> results;
        final CommittedTopic<SlideFailed> deadLetters;
        final List<String> report = new ArrayList<>();
        String job;

        Waves(
                SlidePublisher publisher,
                CommittedTopic<SlideResult> results,
                CommittedTopic<SlideFailed> deadLetters) {
            this.publisher = publisher;
            this.results = results;
            this.deadLetters = deadLetters;
        }

        void run(String name, List<Slide> slides, Fault fault) throws Exception {
            run(name, slides, fault, true);
        }

        /** A wave whose fault starts as soon as its slides are announced. */
        void runWithFaultAtOnce(String name, List<Slide> slides, Fault fault) throws Exception {
            run(name, slides, fault, false);
        }

        private void run(String name, List<Slide> slides, Fault fault, boolean midWave)
                throws Exception {
            String jobBefore = job;
            int failuresBefore = rest.failures(job);
            for (Slide slide : slides) {
                publisher.publish(slide.file(), slide.id());
                if (slide.tiles() < 0) {
                    bad.add(slide.id());
                } else {
                    planned.put(slide.id(), slide.tiles());
                }
            }
            String detail = "";
            long faultAt = System.nanoTime();
            if (fault != null && midWave) {
                // The fault hits work in flight: wait for the first new tiles in Milvus.
                long before = milvusTiles();
                awaitCondition(
                        "tiles of wave '" + name + "' in flight",
                        Duration.ofMinutes(3),
                        () -> milvusTiles() > before);
                pause(Duration.ofMillis(random.nextInt(3000)));
            }
            if (fault != null) {
                faultAt = System.nanoTime();
                detail = fault.inject();
            }
            settle();
            double recovery = (System.nanoTime() - faultAt) / 1e9;
            // Failovers of the job that ran the wave, and of its successor (savepoint, resubmit).
            int failures = rest.failures(jobBefore) - failuresBefore;
            if (!job.equals(jobBefore)) {
                failures += rest.failures(job);
            }
            String line =
                    String.format(
                            "%-30s %s; all %d slides exactly once %.1f s after the fault;"
                                    + " failovers %d; %s",
                            name,
                            detail == null ? "" : detail,
                            planned.size(),
                            recovery,
                            failures,
                            counts());
            System.out.println("ClusterChaosITCase: " + line);
            report.add(line);
            if (name.startsWith("Milvus")) {
                assertThat(failures)
                        .as("failovers while Milvus was away longer than the retry window")
                        .isZero();
            }
            if (name.startsWith("TaskManager SIGKILL")) {
                assertThat(failures).as("failovers caused by one lost TaskManager").isEqualTo(1);
            }
        }

        /** Waits until every slide so far has its result, then checks every store. */
        void settle() throws Exception {
            long deadline = System.nanoTime() + WAVE_TIMEOUT.toNanos();
            while (distinctResults() < planned.size() || deadLetters.poll().size() < bad.size()) {
                assertThat(rest.jobState(job))
                        .as("job %s state", job)
                        .isIn("RUNNING", "RESTARTING", "CREATED", "INITIALIZING");
                assertThat(System.nanoTime())
                        .as(
                                "results of %s within %s; job exceptions: %s; TaskManagers that"
                                        + " exited on their own: %s",
                                planned.keySet(),
                                WAVE_TIMEOUT,
                                rest.exceptions(job),
                                stack.flink().exitedTaskManagers())
                        .isLessThan(deadline);
                pause(Duration.ofMillis(500));
            }
            // The stores commit on the same checkpoint as the results; Milvus upserts land
            // before it. Wait for them, then one more checkpoint, which would commit a duplicate.
            awaitCondition(
                    "stores reached the results",
                    Duration.ofMinutes(1),
                    () -> StoreContents.reached(config, planned));
            long checkpoints = rest.completedCheckpoints(job);
            awaitCondition(
                    "one more checkpoint",
                    Duration.ofMinutes(2),
                    () -> rest.completedCheckpoints(job) > checkpoints,
                    () -> checkpointDiagnosis(job));
            assertExactlyOnce();
        }

        private long distinctResults() {
            return results.poll().stream().map(r -> r.getSlideId().toString()).distinct().count();
        }

        private void assertExactlyOnce() {
            List<SlideResult> committed = results.poll();
            assertThat(committed)
                    .extracting(r -> r.getSlideId().toString())
                    .as("slides.results (read_committed)")
                    .containsExactlyInAnyOrderElementsOf(planned.keySet());
            assertThat(committed)
                    .allSatisfy(
                            r -> {
                                assertThat(r.getComplete()).isTrue();
                                assertThat(r.getTilesReceived())
                                        .isEqualTo(planned.get(r.getSlideId().toString()));
                            });
            assertThat(deadLetters.poll())
                    .extracting(f -> f.getSlideId().toString())
                    .as("slides.dead-letter")
                    .containsExactlyInAnyOrderElementsOf(bad);

            StoreContents.assertExactlyOnce(config, planned);
            var iceberg = config.iceberg();
            assertThat(
                            EndToEndStack.countBySlide(
                                            IcebergTableReader.rows(
                                                    iceberg, iceberg.errorsTable(), "slide_id"))
                                    .keySet())
                    .as("Iceberg slide_errors")
                    .containsExactlyInAnyOrderElementsOf(bad);
        }

        private String counts() {
            long tiles = planned.values().stream().mapToLong(Integer::longValue).sum();
            return String.format(
                    "read back: %d results, %d Iceberg tile rows = %d Milvus tile vectors, %d"
                            + " slide rows, %d dead letter(s)",
                    planned.size(), tiles, tiles, planned.size(), bad.size());
        }

        void report() {
            System.out.println("ClusterChaosITCase: faults, in order:");
            report.forEach(l -> System.out.println("  " + l));
        }
    }

    /** One fault; returns a note for the report. */
    @FunctionalInterface
    private interface Fault {
        String inject() throws Exception;
    }

    /**
     * SIGKILLs a random TaskManager while a spare stands by, as a deployment that keeps one ready
     * (or replaces pods faster than Flink gives up waiting for slots) does. Without a spare, how
     * many failovers one loss costs depends on a race: the restarted job fails once more for want
     * of slots when the JobManager notices the lost TaskManager before the replacement registers
     * (about 5 s against a 6 s TaskManager start on the 2-core machine), then restarts again.
     */
    private String killTaskManager(String job) {
        List<String> running = stack.flink().runningTaskManagers();
        String victim = running.get(random.nextInt(running.size()));
        int registered = rest.taskManagers().size();
        String spare = stack.flink().startTaskManager();
        stack.flink().awaitTaskManagers(registered + 1);
        stack.flink().killTaskManager(victim);
        return "spare " + spare + " up, killed " + victim + " (job " + rest.jobState(job) + ")";
    }

    private record Slide(String id, Path file, int tiles) {}

    private Slide large(String id) throws IOException {
        return synthetic(
                id,
                SyntheticSlideWriter.builder()
                        .size(256 * 36, 256 * 31)
                        .style(Style.APERIO)
                        .seed(id.hashCode())
                        .tissue(256, 256, 256 * 34, 256 * 29)
                        .build(),
                ".svs",
                LARGE_TILES);
    }

    private Slide small(String id) throws IOException {
        boolean aperio = (id.hashCode() & 1) == 0;
        return synthetic(
                id,
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .style(aperio ? Style.APERIO : Style.GENERIC_TIFF)
                        .seed(id.hashCode())
                        .tissue(256, 512, 1024, 512)
                        .build(),
                aperio ? ".svs" : ".tiff",
                8);
    }

    private Slide synthetic(String id, SyntheticSlideWriter writer, String extension, int tiles)
            throws IOException {
        Path file = EndToEndStack.writeSlide(writer, inbox.resolve(id + extension), tiles);
        assertThat(EndToEndStack.plannedTiles(config, file))
                .as("planned tiles of %s", id)
                .isEqualTo(tiles);
        return new Slide(id, file, tiles);
    }

    private Slide corrupt(String id) throws IOException {
        Path file = inbox.resolve(id + ".svs");
        byte[] bytes = new byte[64 * 1024];
        random.nextBytes(bytes);
        Files.write(file, bytes);
        return new Slide(id, file, -1);
    }

    /** Whether tiles had a compaction commit since {@code millis} and has no delete file now. */
    private boolean compactedSince(long millis) {
        return IcebergCatalogs.withTable(
                config.iceberg(),
                config.iceberg().tilesTable(),
                t -> {
                    boolean compacted = false;
                    for (org.apache.iceberg.Snapshot s : t.snapshots()) {
                        compacted |=
                                "replace".equals(s.operation()) && s.timestampMillis() >= millis;
                    }
                    return compacted && IcebergMaintenance.state(t).deleteFiles() == 0;
                });
    }

    private String submit(String savepoint) {
        return rest.run(jar, List.of("--config", jobConfig.toString()), savepoint);
    }

    private void cancelAndAwaitSlotsFree(String job) {
        rest.cancel(job);
        awaitCondition(
                "job " + job + " cancelled",
                Duration.ofMinutes(1),
                () -> rest.jobState(job).equals("CANCELED"));
        awaitCondition(
                "all slots free",
                Duration.ofMinutes(1),
                () ->
                        rest.taskManagers().stream()
                                .allMatch(
                                        t ->
                                                t.path("freeSlots").asInt()
                                                        == t.path("slotsNumber").asInt()));
    }

    private long milvusTiles() {
        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
            return milvus
                    .countPerSlide(config.milvus().tilesCollection(), planned.keySet())
                    .values()
                    .stream()
                    .mapToLong(Long::longValue)
                    .sum();
        } catch (RuntimeException e) {
            return 0; // not reachable yet
        }
    }

    /**
     * What a process holds when a job class loader stays: its threads (a thread running a job
     * class's method pins the loader without a heap path), its class loader tree, and a heap dump
     * (for paths to GC roots).
     */
    private String leakDiagnosis(String process) {
        Path log = stack.flink().dir().resolve("log");
        return "; threads: "
                + stack.flink()
                        .jcmdToFile(
                                process, log.resolve(process + "-leak-threads.txt"), "Thread.print")
                + ", objects awaiting finalization: "
                + stack.flink()
                        .jcmdToFile(
                                process,
                                log.resolve(process + "-leak-finalizers.txt"),
                                "GC.finalizer_info")
                + ", class loaders: "
                + stack.flink()
                        .jcmdToFile(
                                process,
                                log.resolve(process + "-leak-loaders.txt"),
                                "VM.classloaders",
                                "show-classes")
                + ", heap dump: "
                + stack.flink().dumpHeap(process, leakDump(process))
                + ", compiled frames: "
                + stack.flink()
                        .compiledFramesToFile(
                                process, log.resolve(process + "-leak-compiled-frames.txt"))
                + (OLD_OBJECTS ? ", old objects: " + dumpOldObjects(process, log) : "");
    }

    /**
     * Dumps {@code process}'s old object samples with their paths to GC roots, and prints them next
     * to the recording ({@code jfr print}).
     */
    private Path dumpOldObjects(String process, Path log) {
        Path recording = log.resolve(process + "-leak-old-objects.jfr");
        stack.flink()
                .jcmdToFile(
                        process,
                        log.resolve(process + "-leak-jfr-dump.txt"),
                        "JFR.dump",
                        "name=old-objects",
                        "path-to-gc-roots=true",
                        "filename=" + recording);
        return stack.flink()
                .toolToFile(
                        log.resolve(process + "-leak-old-objects.txt"),
                        "jfr",
                        "print",
                        "--events",
                        "jdk.OldObjectSample",
                        recording.toString());
    }

    /**
     * With {@code -Dcluster.jfr-old-objects=true}, the JVM options that make every cluster process
     * record JFR's old object samples from its start: objects still alive, with where they were
     * allocated. A heap dump records only heap and thread roots; JFR's paths to GC roots also name
     * the VM's own (class loader data, VM handles), so {@link #leakDiagnosis} dumps them.
     */
    private static String oldObjectRecording() throws IOException {
        if (!OLD_OBJECTS) {
            return "";
        }
        Path settings = Path.of("target", "old-objects.jfc").toAbsolutePath();
        Files.writeString(
                settings,
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <configuration version="2.0" label="Old objects">
                  <event name="jdk.OldObjectSample">
                    <setting name="enabled">true</setting>
                    <setting name="stackTrace">true</setting>
                    <setting name="cutoff">0 ns</setting>
                  </event>
                </configuration>
                """);
        return " -XX:FlightRecorderOptions:old-object-queue-size=4096"
                + " -XX:StartFlightRecording=name=old-objects,settings="
                + settings;
    }

    /** Where a process's heap goes when a job class loader stays (for its paths to GC roots). */
    private Path leakDump(String process) {
        return stack.flink().dir().resolve("log").resolve(process + "-leak.hprof");
    }

    private static Duration outage() {
        return Duration.ofSeconds(Integer.getInteger("cluster.outage-seconds", 30));
    }

    private static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) {
        awaitCondition(what, timeout, condition, () -> "");
    }

    /** As above; on timeout the failure also says what {@code diagnosis} finds then. */
    private static void awaitCondition(
            String what, Duration timeout, BooleanSupplier condition, Supplier<String> diagnosis) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                throw new AssertionError(what + " within " + timeout + " " + diagnosis.get());
            }
            pause(Duration.ofMillis(250));
        }
    }

    /** The job's checkpointing and where its task threads are, for a checkpoint that is late. */
    private String checkpointDiagnosis(String job) {
        try {
            return "\n"
                    + rest.checkpointDiagnosis(job)
                    + "\nTaskManagers that exited on their own: "
                    + stack.flink().exitedTaskManagers()
                    + "\ntask threads:"
                    + rest.taskThreadStacks();
        } catch (RuntimeException e) {
            return "(no diagnosis: " + e + ")";
        }
    }

    /** A wait that is part of a fault (an outage's length), never a synchronisation. */
    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Long> mib(Map<String, Long> bytes) {
        Map<String, Long> out = new TreeMap<>();
        bytes.forEach((k, v) -> out.put(k, v >> 20));
        return out;
    }
}
