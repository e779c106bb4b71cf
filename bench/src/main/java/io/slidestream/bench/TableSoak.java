package io.slidestream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.local.cluster.SparkQueries;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergMaintenance;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.IcebergSinks;
import io.slidestream.sink.IcebergUpkeep;
import io.slidestream.types.SlideStreamTypes;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.HasTableOperations;

/**
 * Months of commits in minutes: the job's three Iceberg sinks (real Flink sinks, a real JDBC
 * catalog on SQLite) receive one slide per checkpoint for {@code commits} checkpoints - every tenth
 * a re-scan of an earlier slide, every fiftieth a failure - then nothing for two maintenance
 * intervals, once without and once with the in-job maintenance ({@link IcebergUpkeep}). Prints,
 * side by side, what the tables hold afterwards (data and delete files, snapshots, the
 * metadata.json's size, bytes), the commit time of the sink's commits (p50/p99, measured by
 * Iceberg), the end-to-end checkpoint time (p50/p99, from Flink's REST API) and the time of the
 * documented dashboard queries in Spark.
 */
public final class TableSoak {

    /** What one run left and took. */
    public record Figures(
            boolean maintained,
            int commits,
            long tileRows,
            int dataFiles,
            int deleteFiles,
            int snapshots,
            int metadataFiles,
            long metadataJsonBytes,
            long tableBytes,
            double commitP50Millis,
            double commitP99Millis,
            int compactions,
            double compactionP50Millis,
            double checkpointP50Millis,
            double checkpointP99Millis,
            long dashboardMillis,
            Map<String, Long> queryMillis) {}

    /** The catalog of the last run, with the Iceberg tables. */
    private IcebergConfig lastCatalog;

    private final Path work;
    private final int commits;
    private final int tilesPerSlide;
    private final int dimension;
    private final Duration checkpointInterval;
    private final Configuration overrides;
    private final PrintStream out;

    public TableSoak(
            Path work,
            int commits,
            int tilesPerSlide,
            int dimension,
            Duration checkpointInterval,
            Configuration overrides,
            PrintStream out) {
        this.work = work;
        this.commits = commits;
        this.tilesPerSlide = tilesPerSlide;
        this.dimension = dimension;
        this.checkpointInterval = checkpointInterval;
        this.overrides = overrides;
        this.out = out;
    }

    /** Both runs, then the table. */
    public List<Figures> run() throws Exception {
        List<Figures> figures = new ArrayList<>();
        figures.add(once(false));
        figures.add(once(true));
        print(figures);
        return figures;
    }

    /** One run into fresh tables under {@code work/<without|with>-maintenance}. */
    public Figures once(boolean maintained) throws Exception {
        return once(maintained, true);
    }

    /** The same, timing the dashboard queries in Spark or not. */
    public Figures once(boolean maintained, boolean dashboards) throws Exception {
        Path dir = work.resolve(maintained ? "with-maintenance" : "without-maintenance");
        IcebergConfig local =
                IcebergConfig.localJdbc(Files.createDirectories(dir.resolve("iceberg")));
        IcebergConfig plain =
                new ConfigBuilder<>(IcebergConfig::from, overrides)
                        .set(IcebergOptions.URI, local.catalogUri())
                        .set(IcebergOptions.WAREHOUSE, local.warehouseLocation())
                        .build();
        Map<String, String> catalog = new HashMap<>(plain.extraProperties());
        catalog.put(CatalogProperties.METRICS_REPORTER_IMPL, CommitTimes.class.getName());
        IcebergConfig iceberg =
                new ConfigBuilder<>(IcebergConfig::from, overrides)
                        .set(IcebergOptions.URI, local.catalogUri())
                        .set(IcebergOptions.WAREHOUSE, local.warehouseLocation())
                        .set(IcebergOptions.CATALOG_PROPERTIES, catalog)
                        .set(
                                IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS,
                                maintained
                                        ? overrides.get(
                                                IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS)
                                        : 0)
                        .build();
        CommitTimes.clear();
        out.printf(
                "%s: %d commits of one slide (%d tiles, D=%d) at a %d ms checkpoint...%n",
                maintained ? "With maintenance" : "Without maintenance",
                commits,
                tilesPerSlide,
                dimension,
                checkpointInterval.toMillis());
        Map<Long, Long> checkpoints = runJob(iceberg);

        IcebergMaintenance.State tiles =
                IcebergCatalogs.withTable(iceberg, iceberg.tilesTable(), IcebergMaintenance::state);
        long metadataBytes =
                IcebergCatalogs.withTable(
                        iceberg,
                        iceberg.tilesTable(),
                        t ->
                                t.io().newInputFile(
                                                ((HasTableOperations) t)
                                                        .operations()
                                                        .current()
                                                        .metadataFileLocation())
                                        .getLength());
        Map<String, SparkQueries.Answer> spark =
                dashboards ? SparkQueries.dashboards(plain, dir.resolve("spark.log")) : Map.of();
        Map<String, Long> queryMillis = new LinkedHashMap<>();
        long dashboard = 0;
        for (var e : spark.entrySet()) {
            queryMillis.put(e.getKey(), e.getValue().millis());
            dashboard += e.getValue().millis();
        }
        lastCatalog = plain;
        List<Long> sinkCommits = CommitTimes.millis(iceberg.tilesTable(), "!replace");
        List<Long> compactions = CommitTimes.millis(iceberg.tilesTable(), "replace");
        List<Long> checkpointMillis = new ArrayList<>(checkpoints.values());
        return new Figures(
                maintained,
                commits,
                tiles.rows(),
                tiles.dataFiles(),
                tiles.deleteFiles(),
                tiles.snapshots(),
                tiles.metadataFiles(),
                metadataBytes,
                tiles.bytes(),
                percentile(sinkCommits, 50),
                percentile(sinkCommits, 99),
                compactions.size(),
                percentile(compactions, 50),
                percentile(checkpointMillis, 50),
                percentile(checkpointMillis, 99),
                dashboard,
                queryMillis);
    }

    /**
     * Runs the sinks until every slide is committed; the checkpoints' end-to-end durations by id,
     * read from the MiniCluster's REST API while it runs.
     */
    private Map<Long, Long> runJob(IcebergConfig iceberg) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Configuration flink = SlideStreamJob.localClusterSettings(new Configuration());
        flink.set(RestOptions.PORT, port);
        flink.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, Math.max(10, commits * 2));
        flink.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        // A pause as long as the interval after each checkpoint, as in a production job whose
        // checkpoints take less than its interval: without it the sinks commit back to back on a
        // slow machine and the maintenance's commits lose every race against them.
        flink.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, checkpointInterval);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(flink);
        env.setParallelism(1);

        // After the last slide, two maintenance intervals of checkpoints without new rows: the
        // tables are read as the job's maintenance leaves them once the writes stop, not halfway
        // through a run that happened to be in progress when the input ended.
        long quiet = 2L * Math.max(1, overrides.get(IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS));
        DataStream<Long> ticks =
                env.fromSource(
                                new DataGeneratorSource<>(
                                        (GeneratorFunction<Long, Long>) index -> index,
                                        commits + quiet,
                                        RateLimiterStrategy.perCheckpoint(1),
                                        Types.LONG),
                                WatermarkStrategy.noWatermarks(),
                                "One slide per checkpoint")
                        .uid("soak-slides");
        int slideCount = commits;
        DataStream<Long> slides = ticks.filter(i -> i < slideCount).uid("soak-quiet");
        DataStream<TileEmbedding> tiles =
                slides.flatMap(new Tiles(tilesPerSlide, dimension))
                        .returns(TileEmbedding.class)
                        .uid("soak-tiles");
        int tileCount = tilesPerSlide;
        DataStream<SlideResult> results =
                slides.filter(i -> i % 50 != 49)
                        .map(i -> result(slideId(i), tileCount))
                        .returns(SlideStreamTypes.SLIDE_RESULT)
                        .uid("soak-results");
        DataStream<SlideFailed> failures =
                slides.filter(i -> i % 50 == 49)
                        .map(i -> failure(slideId(i)))
                        .returns(SlideStreamTypes.SLIDE_FAILED)
                        .uid("soak-failures");
        IcebergSinks.appendTiles(tiles, iceberg);
        IcebergSinks.appendSlides(results, iceberg);
        IcebergSinks.appendErrors(failures, iceberg);
        IcebergUpkeep.attach(results, iceberg);

        JobClient job = env.executeAsync("SlideStream table soak");
        CompletableFuture<JobExecutionResult> result = job.getJobExecutionResult();
        FlinkRestClient rest = new FlinkRestClient("http://localhost:" + port);
        String id = job.getJobID().toHexString();
        Map<Long, Long> durations = new TreeMap<>();
        long reported = 0;
        while (!result.isDone()) {
            try {
                for (JsonNode c : rest.get("/jobs/" + id + "/checkpoints").path("history")) {
                    if ("COMPLETED".equals(c.path("status").asText())) {
                        durations.put(
                                c.path("id").asLong(), c.path("end_to_end_duration").asLong());
                    }
                }
            } catch (RuntimeException ended) {
                // The MiniCluster goes away with the job: the loop's condition ends it.
            }
            if (durations.size() >= reported + 100) {
                reported = durations.size();
                out.printf("  %d checkpoints%n", reported);
            }
            try {
                result.get(2, TimeUnit.SECONDS); // the REST API is read every 2 s until the end
            } catch (TimeoutException stillRunning) {
                // read the checkpoints again
            }
        }
        result.get();
        return durations;
    }

    /** The Iceberg catalog the last run wrote. */
    public IcebergConfig lastCatalog() {
        return lastCatalog;
    }

    /** The slide of commit {@code i}: a new one, or (every tenth) a re-scan of an earlier one. */
    public static String slideId(long i) {
        long slide = i % 10 == 9 ? i / 2 : i;
        return String.format(Locale.ROOT, "S26-%07d", slide);
    }

    private void print(List<Figures> figures) {
        Figures a = figures.get(0);
        Figures b = figures.get(1);
        out.printf(
                "%n%-34s %16s %16s%n",
                "tiles table after " + a.commits() + " commits", "without", "with maintenance");
        row("rows", a.tileRows(), b.tileRows());
        row("data files", a.dataFiles(), b.dataFiles());
        row("delete files", a.deleteFiles(), b.deleteFiles());
        row("snapshots", a.snapshots(), b.snapshots());
        row("metadata.json files", a.metadataFiles(), b.metadataFiles());
        row("metadata.json bytes", a.metadataJsonBytes(), b.metadataJsonBytes());
        row("bytes under the table", a.tableBytes(), b.tableBytes());
        rowD("sink commit p50 (ms)", a.commitP50Millis(), b.commitP50Millis());
        rowD("sink commit p99 (ms)", a.commitP99Millis(), b.commitP99Millis());
        row("compaction commits", a.compactions(), b.compactions());
        rowD("checkpoint p50 (ms)", a.checkpointP50Millis(), b.checkpointP50Millis());
        rowD("checkpoint p99 (ms)", a.checkpointP99Millis(), b.checkpointP99Millis());
        row("dashboard queries, Spark (ms)", a.dashboardMillis(), b.dashboardMillis());
        for (String q : a.queryMillis().keySet()) {
            row("  " + q, a.queryMillis().get(q), b.queryMillis().getOrDefault(q, -1L));
        }
    }

    private void row(String name, long a, long b) {
        out.printf(Locale.ROOT, "%-34s %16d %16d%n", name, a, b);
    }

    private void rowD(String name, double a, double b) {
        out.printf(Locale.ROOT, "%-34s %16.1f %16.1f%n", name, a, b);
    }

    static double percentile(List<Long> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static SlideResult result(String slideId, int tiles) {
        Instant scanned = Instant.parse("2026-01-01T00:00:00Z");
        return SlideResult.newBuilder()
                .setSlideId(slideId)
                .setUri("file:/slides/" + slideId + ".svs")
                .setModelId(MODEL_ID)
                .setComplete(true)
                .setTileCount(tiles)
                .setTilesReceived(tiles)
                .setLevel(0)
                .setTilePx(224)
                .setMpp(0.5)
                .setScannedAt(scanned)
                .setCompletedAt(scanned.plusSeconds(30))
                .setLogits(List.of(0.5f, 1.5f))
                .setProbabilities(List.of(0.27f, 0.73f))
                .setPredictedClass(1)
                .setMeanEmbedding(List.of(0.1f, 0.2f))
                .setTissueComposition(List.of(new ClassFraction("tumour", 1.0f)))
                .setTopTiles(List.of(new AttentionTile(0L, 0L, 1.0f)))
                .build();
    }

    private static SlideFailed failure(String slideId) {
        return SlideFailed.newBuilder()
                .setSlideId(slideId)
                .setUri("file:/slides/" + slideId + ".svs")
                .setCode("CORRUPT_SLIDE")
                .setMessage("The file is truncated; rescan it.")
                .setStage("plan")
                .setFailedAt(Instant.parse("2026-01-01T00:00:30Z"))
                .setModelId(MODEL_ID)
                .build();
    }

    private static final String MODEL_ID = "gpfm@soak";

    /** The tiles of the slide of commit {@code i}, with seeded vectors. */
    private static final class Tiles implements FlatMapFunction<Long, TileEmbedding> {
        private static final long serialVersionUID = 1L;
        private final int count;
        private final int d;

        Tiles(int count, int d) {
            this.count = count;
            this.d = d;
        }

        @Override
        public void flatMap(Long i, Collector<TileEmbedding> out) {
            String slide = slideId(i);
            int columns = (int) Math.ceil(Math.sqrt(count));
            SplittableRandom random = new SplittableRandom(i);
            for (int n = 0; n < count; n++) {
                TileEmbedding t = new TileEmbedding();
                t.slideId = slide;
                t.x = (long) (n % columns) * 448;
                t.y = (long) (n / columns) * 448;
                t.uri = "file:/slides/" + slide + ".svs";
                t.level = 0;
                t.readPx = 448;
                t.extentPx = 448;
                t.tilePx = 224;
                t.mpp = 0.5;
                t.tissue = 0.8f;
                t.tileIndex = n;
                t.tileCount = count;
                t.scannedAtMillis = 1_767_225_600_000L;
                t.modelId = MODEL_ID;
                t.embedding = new float[d];
                for (int k = 0; k < d; k++) {
                    t.embedding[k] = (float) random.nextGaussian();
                }
                t.headProbabilities = new float[] {0.27f, 0.73f};
                out.collect(t);
            }
        }
    }
}
