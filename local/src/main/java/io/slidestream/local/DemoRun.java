package io.slidestream.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.aggregate.AggregateOptions;
import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.job.JobSinks;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.job.StoreSinks;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The embedded default, end to end: starts the {@link EmbeddedStack}, runs the real job on a Flink
 * MiniCluster in this JVM, watches an inbox folder and publishes a {@code SlideScanned} for every
 * slide that lands there, shows per-slide progress, and when every slide has a result or an error
 * reads the rows and vectors back from Iceberg and Milvus and prints (and returns) a summary.
 */
public final class DemoRun {

    /** What to run. */
    /** Serves the dashboard on a run's stores ({@code demo --serve}; the serve module's server). */
    public interface Dashboard {
        /**
         * Starts serving the stores of {@code config}, says where on {@code out}; close stops it.
         */
        AutoCloseable start(SlideStreamConfig config, PrintStream out) throws Exception;
    }

    public static final class Options {
        public Path workDir;

        /** Whether {@link #workDir} is the demo's default folder (its own, cleared freely). */
        public boolean defaultWorkDir;

        /** The inbox to watch; null generates synthetic slides (and links CMU-1 when present). */
        public Path slidesDir;

        public Path model;
        public Path tileHead;
        public Path slideHead;
        public List<String> tissueClasses = List.of();
        public Path cmu1;
        public boolean follow;

        /**
         * Set (from a signal handler) to finish: no new slides are published, the slides already
         * published are waited for, then the summary is made as at the end of a normal run.
         */
        public final AtomicBoolean drain = new AtomicBoolean();

        /**
         * The dashboard to keep serving on this run's stores after the summary, until a signal;
         * null for none.
         */
        public Dashboard dashboard;

        /**
         * With generated slides: this many more with a planted lesion and as many without, and
         * {@code labels.csv} naming them, to try {@code heads train} on (0: none).
         */
        public int labelledSlides;

        public Duration timeout = Duration.ofMinutes(20);
        public int parallelism = 2;
        public Map<String, String> overrides = Map.of();
    }

    private final Options options;
    private final PrintStream out;
    private final Map<String, SlideScanned> published = new ConcurrentHashMap<>();
    private final Map<String, String> publishedFiles = new ConcurrentHashMap<>();
    private final Map<String, SlideResult> results = new ConcurrentHashMap<>();
    private final Map<String, SlideFailed> failures = new ConcurrentHashMap<>();
    private final Map<String, Long> publishedNanos = new ConcurrentHashMap<>();
    private final Map<String, Long> outcomeNanos = new ConcurrentHashMap<>();

    /** CPU of this process and its children during the run (the steady-state CPU per tile). */
    private CpuSampler cpu;

    private DemoRun(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** Runs the demo and returns its summary (also printed to {@code out}). */
    public static ObjectNode run(Options options, PrintStream out) throws Exception {
        return new DemoRun(options, out).run();
    }

    private ObjectNode run() throws Exception {
        Path work = options.workDir.toAbsolutePath();
        prepareWorkDir(work, options.defaultWorkDir);
        Path inbox =
                options.slidesDir != null
                        ? options.slidesDir.toAbsolutePath()
                        : work.resolve("inbox");
        Files.createDirectories(inbox);
        TileProgress.reset();

        out.println("SlideStream demo - work folder " + work);
        out.println("Starting Kafka (KRaft, in-process), Milvus Lite and the Iceberg catalog ...");
        try (EmbeddedStack stack = EmbeddedStack.start(work, options.parallelism);
                CpuSampler cpu = CpuSampler.start()) {
            this.cpu = cpu;
            Configuration conf = jobConfiguration(stack, inbox);
            SlideStreamJob.localClusterSettings(conf);
            SlideStreamConfig config = SlideStreamConfig.from(conf);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironment(options.parallelism, conf);
            SlideStreamJob.configure(env, config);
            IcebergCatalogs.ensureTables(config.iceberg());
            SlideStreamJob.define(
                    env,
                    config,
                    SlideStreamJob.kafkaEvents(env, config),
                    new ProgressSinks(new StoreSinks(config)));
            JobClient job = env.executeAsync("SlideStream demo");
            out.println(
                    "Job running on a local Flink MiniCluster ("
                            + options.parallelism
                            + " slots); Kafka at "
                            + stack.kafka().bootstrapServers()
                            + ", Milvus at "
                            + stack.milvus().uri());

            long started = System.nanoTime();
            try (SlidePublisher publisher =
                            SlidePublisher.builder()
                                    .bootstrapServers(stack.kafka().bootstrapServers())
                                    .topic(EmbeddedStack.SCANNED_TOPIC)
                                    .scannerId("demo-inbox-watcher")
                                    .build();
                    FolderWatcher watcher =
                            FolderWatcher.builder()
                                    .folder(inbox)
                                    .publisher(publisher)
                                    .pollInterval(Duration.ofMillis(500))
                                    .stableFor(Duration.ofSeconds(1))
                                    .stateFile(work.resolve("watcher-state"))
                                    .onPublished(this::onPublished)
                                    .build()
                                    .start();
                    KafkaConsumer<byte[], byte[]> consumer = outcomes(stack)) {
                if (options.slidesDir == null) {
                    out.println("Writing demo slides into the inbox " + inbox + " ...");
                    writeDemoSlides(inbox);
                    writeLabelledSlides(inbox);
                } else {
                    out.println("Watching " + inbox + " for slides ...");
                }
                boolean finished = awaitOutcomes(consumer, inbox, started, watcher);
                double seconds = (System.nanoTime() - started) / 1e9;
                out.println(finished ? "All slides done." : "Stopped waiting after the timeout.");
                awaitIcebergCommits(config);
                job.cancel().get();
                writeServeConfiguration(conf, work);
                writeLabels(work);
                ObjectNode summary = summary(config, stack, inbox, seconds);
                if (options.dashboard != null) {
                    serveUntilStopped(config);
                }
                return summary;
            } catch (Exception e) {
                // Stop the job before the stack goes away underneath it.
                try {
                    job.cancel().get();
                } catch (Exception stopped) {
                    e.addSuppressed(stopped);
                }
                throw e;
            }
        }
    }

    private Configuration jobConfiguration(EmbeddedStack stack, Path inbox) {
        Map<String, String> keys = new LinkedHashMap<>(stack.configuration().toMap());
        keys.put(InferenceOptions.MODEL_PATH.key(), options.model.toString());
        if (options.tileHead != null) {
            keys.put(InferenceOptions.TILE_HEAD_PATH.key(), options.tileHead.toString());
        }
        if (options.slideHead != null) {
            keys.put(InferenceOptions.SLIDE_HEAD_PATH.key(), options.slideHead.toString());
        }
        if (!options.tissueClasses.isEmpty()) {
            keys.put(
                    AggregateOptions.TISSUE_CLASSES.key(), String.join(";", options.tissueClasses));
        }
        keys.put(InferenceOptions.BATCH_SIZE.key(), "16");
        // Results become visible when a checkpoint completes: a few seconds keeps the demo lively
        // without checkpointing all the time; two batches in flight keep both slots busy.
        keys.put(JobOptions.CHECKPOINT_INTERVAL.key(), "5 s");
        keys.put(InferenceOptions.CAPACITY.key(), "32");
        keys.put(JobOptions.PARALLELISM.key(), String.valueOf(options.parallelism));
        keys.put(AggregateOptions.SLIDE_TIMEOUT.key(), "5 min");
        keys.put(JobOptions.ALLOWED_ROOTS.key(), inbox.toString() + ";" + cacheRoot());
        keys.put(MilvusOptions.FLUSH_INTERVAL.key(), "1 s");
        keys.put(JobOptions.RESTART_STRATEGY.key(), "EXPONENTIAL_DELAY");
        keys.putAll(options.overrides);
        return Configuration.fromMap(keys);
    }

    private String cacheRoot() {
        return options.cmu1 == null ? "" : options.cmu1.toAbsolutePath().getParent().toString();
    }

    private void onPublished(SlideScanned event) {
        publishedNanos.put(event.getSlideId(), System.nanoTime());
        published.put(event.getSlideId(), event);
        publishedFiles.put(event.getSlideId(), Path.of(event.getUri()).getFileName().toString());
        out.println("  published " + event.getSlideId() + " (" + event.getUri() + ")");
    }

    /** Generated slides (known tissue), CMU-1-Small-Region when downloaded, and a broken file. */
    private void writeDemoSlides(Path inbox) throws IOException {
        writeAtomically(
                inbox.resolve("synthetic-generic.tiff"),
                tmp ->
                        SyntheticSlideWriter.builder()
                                .size(4096, 3072)
                                .mpp(0.5)
                                .style(SyntheticSlideWriter.Style.GENERIC_TIFF)
                                .seed(1)
                                .tissue(SyntheticSlideWriter.demoLayout(4096, 3072))
                                .build()
                                .write(tmp));
        writeAtomically(
                inbox.resolve("synthetic-aperio.svs"),
                tmp ->
                        SyntheticSlideWriter.builder()
                                .size(3072, 3072)
                                .mpp(0.25)
                                .style(SyntheticSlideWriter.Style.APERIO)
                                .seed(2)
                                .tissue(512, 512, 2048, 1536)
                                .build()
                                .write(tmp));
        if (options.cmu1 != null && Files.isRegularFile(options.cmu1)) {
            Files.createSymbolicLink(
                    inbox.resolve(options.cmu1.getFileName()), options.cmu1.toAbsolutePath());
        } else {
            out.println(
                    "  (CMU-1-Small-Region not downloaded: run `make setup` to include a real H&E"
                            + " slide)");
        }
        // A scan whose copy was cut short: the job reports it on the dead letter and goes on.
        Path aperio = inbox.resolve("synthetic-aperio.svs");
        byte[] head = Files.readAllBytes(aperio);
        writeAtomically(
                inbox.resolve("interrupted-copy.svs"),
                tmp -> Files.write(tmp, java.util.Arrays.copyOf(head, head.length / 3)));
    }

    /** The file of {@link Options#labelledSlides}' labels, in the work folder. */
    public static final String LABELS_FILE = "labels.csv";

    /**
     * {@link Options#labelledSlides} slides with a lesion (crowded dark nuclei over 2 x 2 tiles,
     * placed differently in each) and as many without: one tissue block of 6 x 5 tiles each.
     */
    private void writeLabelledSlides(Path inbox) throws IOException {
        for (int i = 0; i < options.labelledSlides; i++) {
            for (boolean lesion : new boolean[] {true, false}) {
                long seed = (lesion ? 100 : 200) + i;
                SyntheticSlideWriter.Builder b =
                        SyntheticSlideWriter.builder()
                                .size(2048, 2048)
                                .mpp(0.5)
                                .style(SyntheticSlideWriter.Style.GENERIC_TIFF)
                                .seed(seed)
                                .tissue(256, 256, 256 * 6, 256 * 5);
                if (lesion) {
                    b.lesion(256L * (1 + i % 5), 256L * (1 + i % 4), 512, 512);
                }
                SyntheticSlideWriter writer = b.build();
                writeAtomically(
                        inbox.resolve((lesion ? "lesion-" : "normal-") + i + ".tiff"),
                        writer::write);
            }
        }
    }

    /** {@code labels.csv} for the labelled slides that got a result: slide id, lesion or normal. */
    private void writeLabels(Path work) throws IOException {
        if (options.labelledSlides == 0) {
            return;
        }
        StringBuilder csv = new StringBuilder("slide_id,label\n");
        new java.util.TreeMap<>(publishedFiles)
                .forEach(
                        (id, file) -> {
                            if (results.containsKey(id)
                                    && file.matches("(lesion|normal)-\\d+\\.tiff")) {
                                csv.append(id)
                                        .append(',')
                                        .append(file.startsWith("lesion") ? "lesion" : "normal")
                                        .append('\n');
                            }
                        });
        Files.writeString(work.resolve(LABELS_FILE), csv);
        out.println(
                "Labels of the labelled slides: "
                        + work.resolve(LABELS_FILE)
                        + "; train a head on them with: bin/slidestream heads train --demo-data "
                        + work
                        + " --labels "
                        + work.resolve(LABELS_FILE)
                        + " --task lesion --out "
                        + work.resolve("heads/lesion"));
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    private static void writeAtomically(Path target, Writer writer) throws IOException {
        // A hidden temporary name: the watcher ignores it until the rename.
        Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
        writer.write(tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    }

    private static KafkaConsumer<byte[], byte[]> outcomes(EmbeddedStack stack) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafka().bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "slidestream-demo-summary");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        consumer.subscribe(List.of(EmbeddedStack.RESULTS_TOPIC, EmbeddedStack.DEAD_LETTER_TOPIC));
        return consumer;
    }

    /** Polls results and dead letters, printing progress, until every slide has an outcome. */
    private boolean awaitOutcomes(
            KafkaConsumer<byte[], byte[]> consumer, Path inbox, long started, FolderWatcher watcher)
            throws Exception {
        long deadline = System.nanoTime() + options.timeout.toNanos();
        long lastPrint = 0;
        boolean draining = false;
        while (System.nanoTime() < deadline) {
            if (options.drain.get() && !draining) {
                draining = true;
                watcher.close();
                long open =
                        published.keySet().stream()
                                .filter(id -> !results.containsKey(id) && !failures.containsKey(id))
                                .count();
                out.println(
                        "Stopping: no new slides are taken; finishing the "
                                + open
                                + " slides in flight (signal again to stop at once) ...");
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                if (r.topic().equals(EmbeddedStack.RESULTS_TOPIC)) {
                    SlideResult res = AvroCodec.SLIDE_RESULT.decode(r.value());
                    results.put(res.getSlideId(), res);
                    outcomeNanos.putIfAbsent(res.getSlideId(), System.nanoTime());
                    out.println("  done   " + res.getSlideId() + ": " + prediction(res));
                } else {
                    SlideFailed f = AvroCodec.SLIDE_FAILED.decode(r.value());
                    failures.putIfAbsent(f.getSlideId(), f);
                    outcomeNanos.putIfAbsent(f.getSlideId(), System.nanoTime());
                    out.println(
                            "  failed "
                                    + f.getSlideId()
                                    + ": "
                                    + f.getCode()
                                    + " ("
                                    + f.getStage()
                                    + ")");
                }
            }
            if (System.nanoTime() - lastPrint > 3_000_000_000L) {
                printProgress(started);
                lastPrint = System.nanoTime();
            }
            if (!options.follow && allDone(inbox)) {
                return true;
            }
            if (draining && allPublishedDone()) {
                return true;
            }
        }
        return false;
    }

    private boolean allPublishedDone() {
        return published.keySet().stream()
                .allMatch(id -> results.containsKey(id) || failures.containsKey(id));
    }

    private boolean allDone(Path inbox) throws IOException {
        long slideFiles;
        try (Stream<Path> files = Files.list(inbox)) {
            slideFiles =
                    files.filter(f -> FolderWatcher.isSlideName(f.getFileName().toString()))
                            .count();
        }
        if (published.size() < slideFiles || published.isEmpty()) {
            return false;
        }
        return allPublishedDone();
    }

    private void printProgress(long started) {
        List<String> parts = new ArrayList<>();
        for (String id : published.keySet()) {
            if (results.containsKey(id) || failures.containsKey(id)) {
                continue;
            }
            TileProgress.Slide p = TileProgress.of(id);
            parts.add(
                    p == null
                            ? id + " planning"
                            : String.format(
                                    Locale.ROOT,
                                    "%s %d/%d tiles",
                                    id,
                                    p.tilesDone(),
                                    p.tileCount()));
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        out.printf(
                Locale.ROOT,
                "  [%5.1f s] %d tiles embedded, %.1f tiles/s%s%n",
                seconds,
                TileProgress.totalTiles(),
                TileProgress.totalTiles() / Math.max(seconds, 1e-9),
                parts.isEmpty() ? "" : " | in progress: " + String.join(", ", parts));
    }

    /** Kafka results become visible on a checkpoint; so do Iceberg commits - wait for both. */
    private void awaitIcebergCommits(SlideStreamConfig config) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Map<String, Long> tiles =
                    IcebergTableReader.countPerSlide(
                            config.iceberg(), config.iceberg().tilesTable());
            boolean complete =
                    results.values().stream()
                            .allMatch(
                                    r ->
                                            tiles.getOrDefault(r.getSlideId(), 0L)
                                                    >= r.getTilesReceived());
            if (complete) {
                return;
            }
            Thread.sleep(500);
        }
    }

    private static String prediction(SlideResult r) {
        if (r.getPredictedClass() < 0) {
            return "no slide head; " + r.getTilesReceived() + " tiles aggregated";
        }
        float p = r.getProbabilities().get(r.getPredictedClass());
        return String.format(
                Locale.ROOT,
                "%s (p=%.2f), %d/%d tiles%s",
                r.getPredictedLabel().isEmpty()
                        ? "class " + r.getPredictedClass()
                        : r.getPredictedLabel(),
                p,
                r.getTilesReceived(),
                r.getTileCount(),
                r.getComplete() ? "" : ", INCOMPLETE");
    }

    private ObjectNode summary(
            SlideStreamConfig config, EmbeddedStack stack, Path inbox, double seconds) {
        Map<String, Long> icebergTiles =
                IcebergTableReader.countPerSlide(config.iceberg(), config.iceberg().tilesTable());
        Map<String, Long> icebergSlides =
                IcebergTableReader.countPerSlide(config.iceberg(), config.iceberg().slidesTable());
        Map<String, Long> icebergErrors =
                IcebergTableReader.countPerSlide(config.iceberg(), config.iceberg().errorsTable());
        Map<String, Long> milvusTiles;
        Map<String, Long> milvusSlides;
        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
            milvusTiles =
                    milvus.countPerSlide(config.milvus().tilesCollection(), published.keySet());
            milvusSlides =
                    milvus.countPerSlide(config.milvus().slidesCollection(), published.keySet());
        }

        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        long tissueTiles = 0;
        ArrayNode slides = root.putArray("slides");
        out.println();
        out.printf(
                Locale.ROOT,
                "%-34s %-34s %6s %8s %8s %7s %7s %7s%n",
                "slide",
                "outcome",
                "tiles",
                "ice.til",
                "mil.til",
                "ice.sld",
                "mil.sld",
                "ice.err");
        List<String> ids = new ArrayList<>(published.keySet());
        ids.sort(Comparator.naturalOrder());
        List<Double> latencies = new ArrayList<>();
        for (String id : ids) {
            SlideResult r = results.get(id);
            SlideFailed f = failures.get(id);
            ObjectNode s = slides.addObject();
            s.put("slide_id", id);
            s.put("file", publishedFiles.get(id));
            String outcome;
            if (r != null) {
                tissueTiles += r.getTileCount();
                s.put("status", r.getComplete() ? "COMPLETE" : "INCOMPLETE");
                s.put("predicted_class", r.getPredictedClass());
                s.put("predicted_label", r.getPredictedLabel());
                s.put("head_id", r.getHeadId());
                ArrayNode probs = s.putArray("probabilities");
                r.getProbabilities().forEach(probs::add);
                s.put("tissue_tiles", r.getTileCount());
                s.put("tiles_received", r.getTilesReceived());
                outcome = prediction(r);
            } else if (f != null) {
                s.put("status", "FAILED");
                s.put("error_code", f.getCode());
                s.put("error_stage", f.getStage());
                s.put("error_message", f.getMessage());
                outcome = f.getCode() + " (" + f.getStage() + ")";
            } else {
                s.put("status", "PENDING");
                outcome = "no outcome yet";
            }
            long it = icebergTiles.getOrDefault(id, 0L);
            long mt = milvusTiles.getOrDefault(id, 0L);
            long is = icebergSlides.getOrDefault(id, 0L);
            long ie = icebergErrors.getOrDefault(id, 0L);
            s.put("iceberg_tile_rows", it);
            s.put("milvus_tile_entities", mt);
            s.put("iceberg_slide_rows", is);
            s.put("milvus_slide_entities", milvusSlides.getOrDefault(id, 0L));
            s.put("iceberg_error_rows", ie);
            Long from = publishedNanos.get(id);
            Long to = outcomeNanos.get(id);
            if (from != null && to != null) {
                double latency = (to - from) / 1e9;
                s.put("seconds_to_result", Math.round(latency * 100) / 100.0);
                if (r != null) {
                    latencies.add(latency);
                }
            }
            out.printf(
                    Locale.ROOT,
                    "%-34s %-34s %6s %8d %8d %7d %7d %7d%n",
                    truncate(id, 34),
                    truncate(outcome, 34),
                    r == null ? "-" : String.valueOf(r.getTileCount()),
                    it,
                    mt,
                    is,
                    milvusSlides.getOrDefault(id, 0L),
                    ie);
        }
        long embedded = TileProgress.totalTiles();
        root.put("slides_total", ids.size());
        root.put("slides_completed", results.size());
        root.put(
                "slides_failed",
                failures.keySet().stream().filter(id -> !results.containsKey(id)).count());
        root.put("tissue_tiles", tissueTiles);
        root.put("tiles_embedded", embedded);
        root.put("seconds", Math.round(seconds * 10) / 10.0);
        root.put("tiles_per_second", Math.round(embedded / seconds * 10) / 10.0);
        root.put("model", options.model.toString());
        latencies.sort(Comparator.naturalOrder());
        if (!latencies.isEmpty()) {
            root.put(
                    "median_seconds_to_result",
                    Math.round(latencies.get(latencies.size() / 2) * 100) / 100.0);
        }
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (String id : ids) {
            TileProgress.Slide p = TileProgress.of(id);
            if (p != null) {
                first = Math.min(first, p.firstTileNanos());
                last = Math.max(last, p.lastTileNanos());
            }
        }
        if (last > first) {
            // Steady state: from the first embedded tile to the last, without start-up.
            root.put(
                    "pipeline_tiles_per_second",
                    Math.round(embedded / ((last - first) / 1e9) * 10) / 10.0);
            // CPU per tile: from the first embedded tile to the last outcome, so the sinks'
            // commits of the last tiles count; everything in this JVM (Flink, the Kafka broker,
            // the Iceberg writers, the model) and its children (Milvus Lite).
            long end = outcomeNanos.values().stream().mapToLong(Long::longValue).max().orElse(last);
            double[] cpuNanos = cpu.cpuNanosBetween(first, Math.max(last, end));
            double total = cpuNanos[0] + cpuNanos[1];
            root.put("pipeline_cpu_seconds", Math.round(total / 1e8) / 10.0);
            root.put("pipeline_cpu_us_per_tile", Math.round(total / 1e3 / embedded));
            root.put("pipeline_jvm_cpu_us_per_tile", Math.round(cpuNanos[0] / 1e3 / embedded));
            root.put(
                    "pipeline_milvus_lite_cpu_us_per_tile",
                    Math.round(cpuNanos[1] / 1e3 / embedded));
            ObjectNode roles = root.putObject("pipeline_jvm_cpu_us_per_tile_by_role");
            for (int i = 0; i < CpuSampler.ROLES.size(); i++) {
                roles.put(CpuSampler.ROLES.get(i), Math.round(cpuNanos[2 + i] / 1e3 / embedded));
            }
        }
        root.put("peak_rss_mib", CpuSampler.peakRssKb() / 1024);
        ObjectNode where = root.putObject("stores");
        where.put("work_dir", stack.workDir().toString());
        where.put("iceberg_catalog", "jdbc:sqlite:" + stack.icebergDir().resolve("catalog.db"));
        where.put("iceberg_warehouse", stack.icebergDir().resolve("warehouse").toString());
        where.put("iceberg_namespace", config.iceberg().namespace());
        where.put("milvus_lite_db", stack.milvus().dataFile().toString());
        where.put("kafka_log_dir", stack.kafka().dataDir().toString());

        out.printf(
                Locale.ROOT,
                "%nslides: %d (%d with a result, %d failed), tissue tiles: %d, %d tiles embedded in"
                        + " %.1f s = %.1f tiles/s%n",
                ids.size(),
                results.size(),
                root.get("slides_failed").asLong(),
                tissueTiles,
                embedded,
                seconds,
                embedded / seconds);
        if (root.has("median_seconds_to_result")) {
            out.printf(
                    Locale.ROOT,
                    "median time from event to committed result: %.2f s; steady-state %.1f"
                            + " tiles/s; peak resident memory %d MiB%n",
                    root.get("median_seconds_to_result").asDouble(),
                    root.path("pipeline_tiles_per_second").asDouble(),
                    root.get("peak_rss_mib").asLong());
        }
        out.println(
                "Counts above were read back from the stores after the run: ice.til / ice.sld /"
                        + " ice.err = rows in Iceberg tiles / slides / slide_errors, mil.til /"
                        + " mil.sld = entities in Milvus tiles / slides.");
        out.println("Where the data is:");
        out.println(
                "  Iceberg: JDBC catalog "
                        + where.get("iceberg_catalog").asText()
                        + ", tables "
                        + config.iceberg().namespace()
                        + ".{tiles, slides, slide_errors}, warehouse "
                        + where.get("iceberg_warehouse").asText());
        out.println(
                "  Milvus Lite: "
                        + where.get("milvus_lite_db").asText()
                        + " (collections "
                        + config.milvus().tilesCollection()
                        + ", "
                        + config.milvus().slidesCollection()
                        + "); search it with `bin/slidestream search`");
        out.println(
                "  Kafka topics slides.scanned / slides.results / slides.dead-letter: "
                        + where.get("kafka_log_dir").asText());
        printHowToQuery(stack);
        return root;
    }

    /** The file {@code serve --demo-data} reads: this run's job keys, Kafka and Milvus aside. */
    public static final String SERVE_CONFIGURATION = "serve.yaml";

    /**
     * Writes this run's configuration for {@code serve --demo-data} (which starts Milvus Lite on
     * the run's data file itself): the model and heads, tissue classes, Iceberg catalog and allowed
     * roots.
     */
    private static void writeServeConfiguration(Configuration conf, Path work) throws IOException {
        StringBuilder yaml =
                new StringBuilder(
                        "# Written by the demo for `bin/slidestream serve --demo-data "
                                + work
                                + "`.\n");
        for (var e : new java.util.TreeMap<>(conf.toMap()).entrySet()) {
            String key = e.getKey();
            if (key.startsWith("inference.")
                    || key.startsWith("aggregate.")
                    || key.startsWith("iceberg.")
                    || key.startsWith("tiling.")
                    || key.equals(JobOptions.ALLOWED_ROOTS.key())
                    || key.equals(MilvusOptions.TILES_COLLECTION.key())
                    || key.equals(MilvusOptions.SLIDES_COLLECTION.key())) {
                yaml.append(key)
                        .append(": \"")
                        .append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\""))
                        .append("\"\n");
            }
        }
        Files.writeString(work.resolve(SERVE_CONFIGURATION), yaml.toString());
    }

    /** The dashboard on this run's stores (still up), until Ctrl-C or SIGTERM. */
    private void serveUntilStopped(SlideStreamConfig config) throws Exception {
        options.drain.set(false);
        try (AutoCloseable served = options.dashboard.start(config, out)) {
            while (!options.drain.get()) {
                // The signal handler sets the flag; nothing else to wait on here.
                Thread.sleep(200);
            }
        }
    }

    /** Concrete commands for the stores this run left behind. */
    private void printHowToQuery(EmbeddedStack stack) {
        Path lite = MilvusLite.findPackage().resolve("lib");
        out.println("How to query them:");
        out.println(
                "  Dashboard and search API: bin/slidestream serve --demo-data "
                        + stack.workDir().toAbsolutePath()
                        + " --port 8080   (then open http://127.0.0.1:8080/)");
        out.println(
                "  Milvus: LD_LIBRARY_PATH="
                        + lite
                        + " "
                        + lite.resolve("milvus")
                        + " "
                        + stack.milvus().dataFile()
                        + " 127.0.0.1:19530 ERROR &");
        results.values().stream()
                .filter(r -> !r.getTopTiles().isEmpty())
                .findFirst()
                .ifPresent(
                        r ->
                                out.println(
                                        "          bin/slidestream search --tile "
                                                + r.getSlideId()
                                                + " "
                                                + r.getTopTiles().get(0).getX()
                                                + " "
                                                + r.getTopTiles().get(0).getY()
                                                + " --model-id "
                                                + r.getModelId()
                                                + " -D milvus.uri=http://127.0.0.1:19530"));
        out.println(
                "  Iceberg: any engine with an Iceberg JDBC catalog (Spark, Trino, Flink SQL,"
                        + " PyIceberg): uri jdbc:sqlite:"
                        + stack.icebergDir().resolve("catalog.db")
                        + ", warehouse "
                        + stack.icebergDir().resolve("warehouse").toUri()
                        + ", e.g. SELECT slide_id, count(*) FROM slidestream.tiles GROUP BY"
                        + " slide_id");
    }

    private static String truncate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }

    /** Marks a work folder as the demo's own, so that a later run may clear it. */
    static final String WORK_DIR_MARKER = ".slidestream-demo";

    /**
     * The demo (and {@code bench chaos}) clears its work folder on every run, so it uses only a
     * folder that is new, empty, its own default one, or one an earlier run made (marked with
     * {@value #WORK_DIR_MARKER}); any other folder is refused untouched.
     */
    public static void prepareWorkDir(Path work, boolean isDefault) throws IOException {
        if (Files.exists(work) && !Files.isDirectory(work)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--work-dir " + work + " is a file; give a folder (new or empty)");
        }
        if (Files.isDirectory(work)) {
            boolean empty;
            try (Stream<Path> entries = Files.list(work)) {
                empty = entries.findAny().isEmpty();
            }
            if (!empty && !isDefault && !Files.exists(work.resolve(WORK_DIR_MARKER))) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "--work-dir "
                                + work
                                + " is not empty and was not made by the demo, which clears its"
                                + " work folder on every run; nothing was touched. Give a new or"
                                + " empty folder (or one an earlier demo made), or empty this one"
                                + " yourself");
            }
            deleteRecursively(work);
        }
        Files.createDirectories(work);
        Files.writeString(
                work.resolve(WORK_DIR_MARKER),
                "Made by `slidestream demo`; the next demo run clears this folder.\n");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The store sinks plus the in-JVM progress registry. */
    private static final class ProgressSinks implements JobSinks {
        private final JobSinks delegate;

        ProgressSinks(JobSinks delegate) {
            this.delegate = delegate;
        }

        @Override
        public void tiles(DataStream<TileEmbedding> tiles) {
            delegate.tiles(tiles);
            tiles.sinkTo(new TileProgress.ProgressSink())
                    .uid("demo-progress")
                    .name("Demo progress");
        }

        @Override
        public void slides(DataStream<SlideResult> slides) {
            delegate.slides(slides);
        }

        @Override
        public void slides(DataStream<SlideResult> slides, DataStream<SlideResult> otherHeads) {
            delegate.slides(slides, otherHeads);
        }

        @Override
        public void failures(DataStream<SlideFailed> failures) {
            delegate.failures(failures);
        }
    }
}
