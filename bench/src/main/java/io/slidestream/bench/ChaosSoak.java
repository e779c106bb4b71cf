package io.slidestream.bench;

import io.slidestream.config.ConfigLoader;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.ClusterStack;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.slide.SlideOpener;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.tiling.PlannedSlide;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The long fault run behind {@code bin/slidestream bench chaos}: SlideStream on the local
 * multi-process cluster ({@link ClusterStack}) under a steady feed, through the faults a cluster
 * has, measuring for each the time from the fault until the job is back at full throughput.
 *
 * <p>The feed keeps {@code backlog} slides in flight (a new slide is announced whenever a result is
 * committed), so the job always has work and its throughput is its capacity. Throughput is the rate
 * at which tile vectors reach Milvus, sampled every second; "full" is at least {@value
 * #RECOVERED_SHARE} of the rate over the {@value #BASELINE_SECONDS} s before the fault, sustained
 * for {@value #WINDOW_SECONDS} s. Faults, in order: a TaskManager killed with SIGKILL and a
 * replacement started (twice), the object store stopped for {@code outage}, Kafka's broker
 * restarted, Milvus stopped for longer than the sink's retry window, stop with a savepoint and
 * resume. At the end the feed stops and every slide announced is checked exactly once in Iceberg
 * (read back from the tables), Milvus and {@code slides.results} (read_committed).
 */
public final class ChaosSoak {
    static final double RECOVERED_SHARE = 0.8;
    static final int BASELINE_SECONDS = 20;
    static final int WINDOW_SECONDS = 10;

    /** Tissue tiles of each fed slide (8 x 4 on the 256 px grid). */
    static final int SLIDE_TILES = 32;

    /** Settings of a run. */
    public static final class Options {
        public Path workDir;
        public Path model;
        public Duration outage = Duration.ofSeconds(60);
        public int backlog = 4;
        public long seed = 7;
    }

    /** One fault's figures. */
    public record FaultFigures(
            String fault, double baselineTilesPerSecond, double secondsToFullThroughput) {}

    private final Options options;
    private final PrintStream out;
    private final Random random;
    private final Map<String, Integer> planned = new TreeMap<>();
    private final List<long[]> samples = new ArrayList<>();
    private ClusterStack stack;
    private FlinkRestClient rest;
    private SlideStreamConfig config;
    private Path jobConfig;
    private String jar;
    private String job;
    private Path inbox;
    private int nextSlide;

    private ChaosSoak(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
        this.random = new Random(options.seed);
    }

    /** Runs the soak and returns the figures per fault; throws when a store is not exact. */
    public static List<FaultFigures> run(Options options, PrintStream out) throws Exception {
        return new ChaosSoak(options, out).run();
    }

    private List<FaultFigures> run() throws Exception {
        Path dir = options.workDir.toAbsolutePath();
        ClusterStack.Options cluster = new ClusterStack.Options();
        cluster.slotsPerTaskManager = 1;
        cluster.flinkSettings = Map.of("restart-strategy.exponential-delay.max-backoff", "15 s");
        out.println("Starting the local cluster under " + dir + " ...");
        List<FaultFigures> figures = new ArrayList<>();
        try (ClusterStack started = ClusterStack.start(dir, cluster)) {
            stack = started;
            rest = stack.flink().rest();
            inbox = Files.createDirectories(dir.resolve("inbox"));
            jobConfig =
                    stack.writeJobConfig(
                            "soak", ClusterStack.faultRunJobSettings(options.model, inbox));
            config = SlideStreamConfig.from(ConfigLoader.load(jobConfig, Map.of()));
            jar = rest.uploadJar(stack.testbed().jobJar());
            job = submit(null);
            awaitCondition(() -> rest.allTasksRunning(job));
            try (SlidePublisher publisher =
                            SlidePublisher.builder()
                                    .bootstrapServers(stack.kafka().bootstrapServers())
                                    .topic(ClusterStack.SCANNED_TOPIC)
                                    .build();
                    CommittedTopic<SlideResult> results = stack.committedResults()) {
                Feed feed = new Feed(publisher, results);
                // Warm up: the first slides reach the stores.
                feed.runFor(Duration.ofSeconds(BASELINE_SECONDS));
                figures.add(measure(feed, "TaskManager SIGKILL (1)", this::killTaskManager));
                figures.add(measure(feed, "TaskManager SIGKILL (2)", this::killTaskManager));
                figures.add(
                        measure(
                                feed,
                                "object store down " + options.outage.toSeconds() + " s",
                                () -> {
                                    stack.objectStore().stop();
                                    feed.runFor(options.outage);
                                    stack.objectStore().start();
                                }));
                figures.add(
                        measure(
                                feed,
                                "Kafka broker restart",
                                () -> {
                                    stack.kafka().stop();
                                    stack.kafka().start();
                                }));
                figures.add(
                        measure(
                                feed,
                                "Milvus down 30 s",
                                () -> {
                                    stack.stopMilvus();
                                    feed.runFor(Duration.ofSeconds(30));
                                    stack.startMilvus();
                                }));
                figures.add(
                        measure(
                                feed,
                                "stop with savepoint, resume",
                                () -> {
                                    String savepoint =
                                            rest.stopWithSavepoint(
                                                    job, null, Duration.ofMinutes(3));
                                    job = submit(savepoint);
                                }));
                feed.drain();
            }
            verify();
        }
        out.println();
        out.println("fault                          baseline tiles/s   to full throughput");
        for (FaultFigures f : figures) {
            out.printf(
                    Locale.ROOT,
                    "%-30s %16.1f %18.1f s%n",
                    f.fault(),
                    f.baselineTilesPerSecond(),
                    f.secondsToFullThroughput());
        }
        out.printf(
                Locale.ROOT,
                "%d slides, %d tiles: every one exactly once in Iceberg, Milvus and"
                        + " slides.results%n",
                planned.size(),
                planned.values().stream().mapToLong(Integer::longValue).sum());
        return figures;
    }

    /** A fault; may itself keep the feed going while it lasts. */
    @FunctionalInterface
    private interface Fault {
        void inject() throws Exception;
    }

    private FaultFigures measure(Feed feed, String name, Fault fault) throws Exception {
        // Steady state first: the baseline window must not include the last recovery.
        feed.runFor(Duration.ofSeconds(BASELINE_SECONDS));
        double baseline = feed.rate(BASELINE_SECONDS);
        out.printf(Locale.ROOT, "%s: baseline %.1f tiles/s, injecting%n", name, baseline);
        long at = System.nanoTime();
        fault.inject();
        long deadline = at + Duration.ofMinutes(10).toNanos();
        // Full throughput again: the rate over the last window is back near the baseline.
        while (!(rest.allTasksRunning(job)
                && feed.secondsSince(at) >= WINDOW_SECONDS
                && feed.rate(WINDOW_SECONDS) >= RECOVERED_SHARE * baseline)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        name
                                + ": not back at full throughput within 10 minutes; job exceptions: "
                                + rest.exceptions(job));
            }
            feed.runFor(Duration.ofSeconds(1));
        }
        double seconds = (System.nanoTime() - at) / 1e9;
        out.printf(Locale.ROOT, "%s: full throughput again after %.1f s%n", name, seconds);
        return new FaultFigures(name, baseline, seconds);
    }

    private void killTaskManager() {
        List<String> running = stack.flink().runningTaskManagers();
        String victim = running.get(random.nextInt(running.size()));
        stack.flink().killTaskManager(victim);
        out.println("  killed " + victim + ", started " + stack.flink().startTaskManager());
    }

    /** Keeps {@code backlog} slides in flight and samples the tile rate every second. */
    private final class Feed {
        final SlidePublisher publisher;
        final CommittedTopic<SlideResult> results;

        Feed(SlidePublisher publisher, CommittedTopic<SlideResult> results) {
            this.publisher = publisher;
            this.results = results;
        }

        void runFor(Duration duration) throws IOException {
            long end = System.nanoTime() + duration.toNanos();
            do {
                long committed = committed();
                while (nextSlide - committed < options.backlog) {
                    announce();
                }
                sample();
                pause(Duration.ofSeconds(1));
            } while (System.nanoTime() < end);
        }

        /** Stops announcing and waits until every announced slide has its result. */
        void drain() {
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (committed() < planned.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "results missing after the soak: "
                                    + (planned.size() - committed())
                                    + " of "
                                    + planned.size());
                }
                pause(Duration.ofSeconds(1));
            }
        }

        long committed() {
            return results.poll().stream().map(r -> r.getSlideId().toString()).distinct().count();
        }

        void announce() throws IOException {
            String id = String.format(Locale.ROOT, "soak-%04d", nextSlide++);
            Path file = inbox.resolve(id + ".tiff");
            SyntheticSlideWriter.builder()
                    .size(2560, 1536)
                    .seed(id.hashCode())
                    .tissue(256, 256, 256L * 8, 256L * 4)
                    .build()
                    .write(file);
            int tiles =
                    PlannedSlide.plan(
                                    SlideOpener.unrestricted(),
                                    file.toString(),
                                    config.tiling(),
                                    OptionalDouble.empty())
                            .plan()
                            .tissueTileCount();
            planned.put(id, tiles);
            publisher.publish(file, id);
        }

        void sample() {
            long tiles = -1;
            try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
                tiles =
                        milvus
                                .countPerSlide(config.milvus().tilesCollection(), planned.keySet())
                                .values()
                                .stream()
                                .mapToLong(Long::longValue)
                                .sum();
            } catch (RuntimeException milvusAway) {
                // No sample while Milvus is down: the rate over the gap counts as zero.
            }
            if (tiles >= 0) {
                samples.add(new long[] {System.nanoTime(), tiles});
            }
        }

        /** Tiles per second over the last {@code seconds} seconds of samples. */
        double rate(int seconds) {
            long now = System.nanoTime();
            long from = now - Duration.ofSeconds(seconds).toNanos();
            long[] first = null;
            long[] last = null;
            for (long[] s : samples) {
                if (s[0] >= from) {
                    if (first == null) {
                        first = s;
                    }
                    last = s;
                }
            }
            if (first == null || last == first) {
                return 0;
            }
            return (last[1] - first[1]) / ((now - first[0]) / 1e9);
        }

        double secondsSince(long nanos) {
            return (System.nanoTime() - nanos) / 1e9;
        }
    }

    /** Every announced slide exactly once in every store; throws naming the first difference. */
    private void verify() {
        var iceberg = config.iceberg();
        Map<String, Long> tiles = IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable());
        Map<String, Long> slides = IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable());
        Set<String> problems = new TreeSet<>();
        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus());
                CommittedTopic<SlideResult> results = stack.committedResults();
                CommittedTopic<SlideFailed> deadLetters = stack.committedDeadLetters()) {
            Map<String, Long> resultCounts = new TreeMap<>();
            awaitCondition(() -> results.poll().size() >= planned.size());
            results.poll()
                    .forEach(r -> resultCounts.merge(r.getSlideId().toString(), 1L, Long::sum));
            for (var e : planned.entrySet()) {
                String id = e.getKey();
                long expected = e.getValue();
                check(problems, id, "Iceberg tiles", tiles.getOrDefault(id, 0L), expected);
                check(problems, id, "Iceberg slides", slides.getOrDefault(id, 0L), 1);
                check(problems, id, "Milvus tiles", milvus.countTiles(id), expected);
                check(problems, id, "Milvus slides", milvus.countSlides(id), 1);
                check(problems, id, "slides.results", resultCounts.getOrDefault(id, 0L), 1);
            }
            if (!deadLetters.poll().isEmpty()) {
                problems.add("dead letter not empty: " + deadLetters.poll().size() + " records");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("not exactly once: " + problems);
        }
    }

    private static void check(Set<String> problems, String id, String store, long got, long want) {
        if (got != want) {
            problems.add(id + ": " + store + " " + got + " (expected " + want + ")");
        }
    }

    private String submit(String savepoint) {
        return rest.run(jar, List.of("--config", jobConfig.toString()), savepoint);
    }

    private static void awaitCondition(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within 3 minutes");
            }
            pause(Duration.ofMillis(250));
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted", e));
        }
    }
}
