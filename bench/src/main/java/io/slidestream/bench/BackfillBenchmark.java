package io.slidestream.bench;

import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.ModelCard;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.StoredModels;
import io.slidestream.sink.CurrentModel;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * What a backfill costs the live feed, on the embedded stack: the live job (model A) embeds an
 * archive of slides, then the event-to-committed-result latency of live slides sent one after the
 * other is measured without a backfill and during one (model B over the archive, its own job on its
 * own MiniCluster in this JVM, as {@code slidestream backfill} runs). Prints the latencies, their
 * ratio and both jobs' tiles/s.
 */
public final class BackfillBenchmark {

    /** The figures of one run. */
    public record Result(
            int archiveSlides,
            long archiveTiles,
            double liveTilesPerSecond,
            double backfillTilesPerSecond,
            List<Double> liveSeconds,
            List<Double> duringBackfillSeconds,
            boolean backfillFinishedDuringLive,
            double promoteToSearchMillis) {

        public double medianLive() {
            return median(liveSeconds);
        }

        public double medianDuringBackfill() {
            return median(duringBackfillSeconds);
        }
    }

    private final Path work;
    private final Path modelA;
    private final Path modelB;
    private final int archive;
    private final int live;
    private final int liveParallelism;
    private final int backfillParallelism;
    private final int nice;
    private final List<String> backfillCommand;
    private final PrintStream out;

    public BackfillBenchmark(
            Path work,
            Path modelA,
            Path modelB,
            int archive,
            int live,
            int liveParallelism,
            int backfillParallelism,
            int nice,
            List<String> backfillCommand,
            PrintStream out) {
        this.work = work;
        this.modelA = modelA;
        this.modelB = modelB;
        this.archive = archive;
        this.live = live;
        this.liveParallelism = liveParallelism;
        this.backfillParallelism = backfillParallelism;
        this.nice = nice;
        this.backfillCommand = List.copyOf(backfillCommand);
        this.out = out;
    }

    public Result run() throws Exception {
        Path slides = Files.createDirectories(work.resolve("slides"));
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < archive + 2 * live; i++) {
            Path file = slides.resolve(String.format(Locale.ROOT, "backfill-bench-%02d.tiff", i));
            if (!Files.isRegularFile(file)) {
                SyntheticSlideWriter.builder()
                        .size(4096, 3072)
                        .mpp(0.5)
                        .seed(500 + i)
                        .tissue(SyntheticSlideWriter.demoLayout(4096, 3072))
                        .build()
                        .write(file);
            }
            files.add(file);
        }
        try (EmbeddedStack stack = EmbeddedStack.start(work.resolve("stack"), 2)) {
            Configuration liveConf = configuration(stack, modelA, liveParallelism);
            SlideStreamConfig liveJob = SlideStreamConfig.from(liveConf);
            IcebergCatalogs.ensureTables(liveJob.iceberg());
            JobClient running =
                    SlideStreamJob.start(
                            StreamExecutionEnvironment.getExecutionEnvironment(liveConf), liveJob);
            try (SlidePublisher publisher =
                    SlidePublisher.builder()
                            .bootstrapServers(stack.kafka().bootstrapServers())
                            .topic(EmbeddedStack.SCANNED_TOPIC)
                            .scannerId("bench")
                            .build()) {
                String idA = ModelCard.idOf(modelA);
                long start = System.nanoTime();
                List<String> archiveIds = new ArrayList<>();
                for (int i = 0; i < archive; i++) {
                    archiveIds.add(publisher.publish(files.get(i), "archive-" + i).getSlideId());
                }
                for (String id : archiveIds) {
                    awaitResult(liveJob.iceberg(), id, idA, running);
                }
                double liveSeconds = (System.nanoTime() - start) / 1e9;
                long tiles = tileRows(liveJob.iceberg(), idA);
                out.printf(
                        Locale.ROOT,
                        "archive: %d slides, %d tiles embedded by the live job in %.1f s (%.1f"
                                + " tiles/s)%n",
                        archive,
                        tiles,
                        liveSeconds,
                        tiles / liveSeconds);

                List<Double> alone = new ArrayList<>();
                for (int i = 0; i < live; i++) {
                    alone.add(
                            oneLiveSlide(
                                    publisher,
                                    files.get(archive + i),
                                    "live-" + i,
                                    liveJob,
                                    idA,
                                    running));
                }
                out.printf(Locale.ROOT, "live slides alone: %s s%n", alone);

                String idB = ModelCard.idOf(modelB);
                Path config = writeBackfillConfig(stack);
                List<String> command = new ArrayList<>(backfillCommand);
                command.addAll(
                        List.of(
                                "backfill",
                                "--config",
                                config.toString(),
                                "--model",
                                modelB.toString(),
                                "--parallelism",
                                Integer.toString(backfillParallelism),
                                "--nice",
                                Integer.toString(nice)));
                Path log = work.resolve("backfill.log");
                long backfillStart = System.nanoTime();
                Process backfillProcess =
                        new ProcessBuilder(command)
                                .redirectErrorStream(true)
                                .redirectOutput(log.toFile())
                                .start();
                CompletableFuture<Double> backfill =
                        backfillProcess
                                .onExit()
                                .thenApply(
                                        p -> {
                                            if (p.exitValue() != 0) {
                                                throw new IllegalStateException(
                                                        "the backfill failed (exit "
                                                                + p.exitValue()
                                                                + "): see "
                                                                + log);
                                            }
                                            return (System.nanoTime() - backfillStart) / 1e9;
                                        });
                List<Double> during = new ArrayList<>();
                for (int i = 0; i < live; i++) {
                    during.add(
                            oneLiveSlide(
                                    publisher,
                                    files.get(archive + live + i),
                                    "during-" + i,
                                    liveJob,
                                    idA,
                                    running));
                }
                boolean finishedDuring = backfill.isDone();
                out.printf(Locale.ROOT, "live slides during the backfill: %s s%n", during);
                double backfillSeconds = backfill.get();
                long backfillTiles = tileRows(liveJob.iceberg(), idB);
                out.printf(
                        Locale.ROOT,
                        "backfill: %d slides, %d tiles in %.1f s (%.1f tiles/s)%s%n",
                        StoredModels.of(liveJob.iceberg(), liveJob.milvus(), idB).slides(),
                        backfillTiles,
                        backfillSeconds,
                        backfillTiles / backfillSeconds,
                        finishedDuring ? "; it ended before the last live slide" : "");
                double promoteMillis = promoteAndSearch(liveJob, idB);
                out.printf(
                        Locale.ROOT,
                        "promote %s -> first search of its vectors: %.0f ms%n",
                        idB,
                        promoteMillis);
                return new Result(
                        archive,
                        tiles,
                        tiles / liveSeconds,
                        backfillTiles / backfillSeconds,
                        alone,
                        during,
                        finishedDuring,
                        promoteMillis);
            } finally {
                running.cancel().get();
            }
        }
    }

    /**
     * Promotes {@code modelId} and then does what {@code serve} does for a search without a model
     * id: reads the current model from the catalog and searches its vectors (with one of them); the
     * milliseconds from the start of the promotion to the answer.
     */
    private static double promoteAndSearch(SlideStreamConfig job, String modelId) {
        org.apache.iceberg.data.Record tile =
                IcebergCatalogs.withTable(
                                job.iceberg(),
                                job.iceberg().tilesTable(),
                                t ->
                                        IcebergTableReader.rowsWhere(
                                                t,
                                                "model_id",
                                                modelId,
                                                "model_id",
                                                "slide_id",
                                                "x",
                                                "y",
                                                "level"))
                        .get(0);
        try (MilvusStoreReader reader = MilvusStoreReader.open(job.milvus())) {
            float[] probe =
                    reader.findTiles(
                                    (String) tile.getField("slide_id"),
                                    modelId,
                                    java.util.OptionalInt.of((Integer) tile.getField("level")),
                                    (Long) tile.getField("x"),
                                    (Long) tile.getField("y"))
                            .get(0)
                            .embedding();
            long start = System.nanoTime();
            CurrentModel.promote(job.iceberg(), modelId);
            String current = CurrentModel.read(job.iceberg()).orElseThrow();
            List<MilvusStoreReader.TileHit> hits =
                    reader.searchTiles(probe, 5, "model_id == " + MilvusStoreReader.quote(current));
            double millis = (System.nanoTime() - start) / 1e6;
            if (hits.isEmpty()) {
                throw new IllegalStateException("no hit for the promoted model " + modelId);
            }
            return millis;
        }
    }

    /** Publishes one slide and waits for its committed result; the seconds in between. */
    private double oneLiveSlide(
            SlidePublisher publisher,
            Path file,
            String id,
            SlideStreamConfig job,
            String modelId,
            JobClient running)
            throws Exception {
        long sent = System.nanoTime();
        publisher.publish(file, id);
        awaitResult(job.iceberg(), id, modelId, running);
        return Math.round((System.nanoTime() - sent) / 1e7) / 100.0;
    }

    private static void awaitResult(
            IcebergConfig iceberg, String slideId, String modelId, JobClient running)
            throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(30));
        while (IcebergCatalogs.withTable(
                        iceberg,
                        iceberg.slidesTable(),
                        t ->
                                IcebergTableReader.rowsWhere(
                                        t, "slide_id", slideId, "slide_id", "model_id"))
                .stream()
                .noneMatch(r -> modelId.equals(r.getField("model_id")))) {
            if (running.getJobStatus().get().isGloballyTerminalState()
                    || Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("no result for " + slideId + " (job or deadline)");
            }
            // The latency is measured to the result's commit: look again shortly.
            Thread.sleep(100);
        }
    }

    /** The stack's store keys for the backfill process, as a job configuration file. */
    private Path writeBackfillConfig(EmbeddedStack stack) throws java.io.IOException {
        StringBuilder yaml = new StringBuilder();
        Map<String, String> keys = new java.util.TreeMap<>(stack.configuration().toMap());
        keys.put(InferenceOptions.BATCH_SIZE.key(), "16");
        keys.put(JobOptions.CHECKPOINT_INTERVAL.key(), "1 s");
        keys.put(MilvusOptions.FLUSH_INTERVAL.key(), "200 ms");
        keys.forEach(
                (k, v) ->
                        yaml.append(k)
                                .append(": \"")
                                .append(v.replace("\\", "\\\\").replace("\"", "\\\""))
                                .append("\"\n"));
        Path file = work.resolve("backfill.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static long tileRows(IcebergConfig iceberg, String modelId) {
        return IcebergCatalogs.withTable(
                        iceberg,
                        iceberg.tilesTable(),
                        t -> IcebergTableReader.rowsWhere(t, "model_id", modelId, "model_id"))
                .size();
    }

    private static Configuration configuration(EmbeddedStack stack, Path model, int parallelism) {
        Map<String, String> keys = new LinkedHashMap<>(stack.configuration().toMap());
        keys.put(InferenceOptions.MODEL_PATH.key(), model.toString());
        keys.put(InferenceOptions.BATCH_SIZE.key(), "16");
        keys.put(JobOptions.CHECKPOINT_INTERVAL.key(), "1 s");
        keys.put(JobOptions.PARALLELISM.key(), Integer.toString(parallelism));
        keys.put(MilvusOptions.FLUSH_INTERVAL.key(), "200 ms");
        keys.put(JobOptions.RESTART_STRATEGY.key(), "NONE");
        return SlideStreamJob.localClusterSettings(Configuration.fromMap(keys));
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n == 0
                ? Double.NaN
                : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The figures as a Markdown table row, with the backfill's niceness. */
    public static void print(Result r, int nice, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "backfill at nice %d, live job at 0%n| live latency alone, median | during a backfill, median | ratio | live tiles/s |"
                        + " backfill tiles/s | promote -> first search |%n"
                        + "|---|---|---|---|---|---|%n"
                        + "| %.2f s | %.2f s | %.2f | %.1f | %.1f | %.0f ms |%n",
                nice,
                r.medianLive(),
                r.medianDuringBackfill(),
                r.medianDuringBackfill() / r.medianLive(),
                r.liveTilesPerSecond(),
                r.backfillTilesPerSecond(),
                r.promoteToSearchMillis());
        if (r.backfillFinishedDuringLive()) {
            out.println(
                    "note: the backfill ended before the last live slide; give --archive more"
                            + " slides for a backfill that lasts the whole phase");
        }
    }

    /** A hard link to {@code model} named {@code <stem>-b.onnx}, with its card if it has one. */
    public static Path sameWeightsOtherName(Path model, Path work) throws Exception {
        String file = model.getFileName().toString();
        String stem = file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
        Path b = work.resolve(stem + "-b.onnx");
        Files.deleteIfExists(b);
        try {
            Files.createLink(b, model.toAbsolutePath());
        } catch (UnsupportedOperationException | java.io.IOException crossDevice) {
            Files.copy(model, b);
        }
        Path card = ModelCard.cardPath(model);
        Path cardB = ModelCard.cardPath(b);
        Files.deleteIfExists(cardB);
        if (Files.isRegularFile(card)) {
            Files.writeString(
                    cardB,
                    Files.readString(card)
                            .replaceFirst("\"name\"\\s*:\\s*\"([^\"]*)\"", "\"name\": \"$1-b\""));
        }
        return b;
    }
}
