package io.slidestream.local;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.job.BackfillJob;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergTableReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.data.Record;

/**
 * Embeds the archive again with another model, beside the live feed: picks the slides (the stores'
 * own, at each slide's latest scan, or a folder's), leaves out those that already have a result or
 * an error for the model (so a second run, or a run after a crash, adds nothing), runs {@link
 * BackfillJob} on a local MiniCluster and ends it once every slide's result or error is committed,
 * as read back from Iceberg.
 */
public final class Backfill {

    /** The scanner id of the events a backfill makes. */
    public static final String SCANNER_ID = "backfill";

    private static final String SLIDE_ID = "slide_id";
    private static final String MODEL_ID = "model_id";
    private static final String SCANNED_AT = "scanned_at";
    private static final String TILES_RECEIVED = "tiles_received";

    /** The slides a backfill for {@code modelId} was given and those it still has to do. */
    public record Plan(String modelId, int candidates, List<SlideScanned> todo) {
        public int alreadyDone() {
            return candidates - todo.size();
        }
    }

    private Backfill() {}

    /**
     * Every slide of the {@code slides} table, at its latest scan over all models, scanned at or
     * after {@code since} (null: all), in slide id order.
     */
    public static List<SlideScanned> storedSlides(IcebergConfig iceberg, Instant since) {
        List<Record> rows =
                IcebergCatalogs.withTable(
                        iceberg,
                        iceberg.slidesTable(),
                        t -> IcebergTableReader.rows(t, SLIDE_ID, "uri", SCANNED_AT));
        Map<String, Record> latest = new TreeMap<>();
        for (Record row : rows) {
            latest.merge(
                    (String) row.getField(SLIDE_ID),
                    row,
                    (a, b) -> scannedAt(a).isBefore(scannedAt(b)) ? b : a);
        }
        List<SlideScanned> slides = new ArrayList<>();
        for (Record row : latest.values()) {
            Instant scanned = scannedAt(row);
            if (since == null || !scanned.isBefore(since)) {
                slides.add(
                        SlideScanned.newBuilder()
                                .setSlideId((String) row.getField(SLIDE_ID))
                                .setUri((String) row.getField("uri"))
                                .setScannedAt(scanned)
                                .setScannerId(SCANNER_ID)
                                .build());
            }
        }
        return slides;
    }

    /**
     * The slide files directly in {@code dir} (the formats the folder watcher takes), with ids and
     * scan times as the watcher gives them, modified at or after {@code since} (null: all).
     */
    public static List<SlideScanned> folderSlides(Path dir, Instant since) {
        if (!Files.isDirectory(dir)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, dir + " is not a folder: give a folder of slides");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> FolderWatcher.isSlideName(f.getFileName().toString()))
                    .map(f -> SlidePublisher.eventFor(f, null, SCANNER_ID))
                    .filter(e -> since == null || !e.getScannedAt().isBefore(since))
                    .sorted(Comparator.comparing(SlideScanned::getSlideId))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * The slides of {@code candidates} that have neither a result for {@code modelId} from their
     * latest scan (or a later one), with all its tiles in the tiles table, nor an error for it.
     */
    public static Plan plan(IcebergConfig iceberg, String modelId, List<SlideScanned> candidates) {
        // The three tables commit independently: a result whose tiles are not all in the tiles
        // table yet (a backfill stopped between the two commits) does not make its slide done.
        Map<String, Long> tiles = new HashMap<>();
        for (Record row : modelRows(iceberg, iceberg.tilesTable(), modelId)) {
            tiles.merge((String) row.getField(SLIDE_ID), 1L, Long::sum);
        }
        Map<String, Instant> results = new HashMap<>();
        for (Record row :
                modelRows(iceberg, iceberg.slidesTable(), modelId, SCANNED_AT, TILES_RECEIVED)) {
            String slide = (String) row.getField(SLIDE_ID);
            if (tiles.getOrDefault(slide, 0L) >= (Integer) row.getField(TILES_RECEIVED)) {
                results.merge(slide, scannedAt(row), (a, b) -> a.isBefore(b) ? b : a);
            }
        }
        Set<String> failed = new HashSet<>();
        for (Record row : modelRows(iceberg, iceberg.errorsTable(), modelId)) {
            failed.add((String) row.getField(SLIDE_ID));
        }
        List<SlideScanned> todo = new ArrayList<>();
        for (SlideScanned slide : candidates) {
            Instant done = results.get(slide.getSlideId());
            boolean hasResult = done != null && !done.isBefore(slide.getScannedAt());
            if (!hasResult && !failed.contains(slide.getSlideId())) {
                todo.add(slide);
            }
        }
        return new Plan(modelId, candidates.size(), List.copyOf(todo));
    }

    /**
     * Runs the backfill of {@code plan} with {@code config} (whose model is the plan's) on a local
     * MiniCluster configured by {@code flink}, reporting the number of finished slides to {@code
     * progress} every {@code poll}; returns when all are committed and the job is stopped.
     *
     * @throws SlideStreamException {@code INTERNAL} when the job ends before that
     */
    public static void run(
            Configuration flink,
            SlideStreamConfig config,
            Plan plan,
            Duration poll,
            IntConsumer progress)
            throws Exception {
        if (plan.todo().isEmpty()) {
            progress.accept(0);
            return;
        }
        SlideStreamJob.localClusterSettings(flink);
        JobClient job =
                BackfillJob.start(
                        StreamExecutionEnvironment.getExecutionEnvironment(flink),
                        config,
                        plan.todo());
        try {
            while (true) {
                int finished =
                        plan.todo().size()
                                - plan(config.iceberg(), plan.modelId(), plan.todo()).todo().size();
                progress.accept(finished);
                if (finished == plan.todo().size()) {
                    return;
                }
                JobStatus status = job.getJobStatus().get();
                if (status.isGloballyTerminalState()) {
                    job.getJobExecutionResult().get();
                    throw new SlideStreamException(
                            ErrorCode.INTERNAL,
                            "the backfill job ended ("
                                    + status
                                    + ") with "
                                    + finished
                                    + " of "
                                    + plan.todo().size()
                                    + " slides done; run it again to go on");
                }
                // Progress is what the stores hold: read them again after a while.
                Thread.sleep(poll.toMillis());
            }
        } finally {
            if (!job.getJobStatus().get().isGloballyTerminalState()) {
                job.cancel().get();
            }
        }
    }

    /** Rows of {@code table} for {@code modelId}: slide id and model id, and {@code more}. */
    private static List<Record> modelRows(
            IcebergConfig iceberg, String table, String modelId, String... more) {
        String[] columns = new String[more.length + 2];
        columns[0] = SLIDE_ID;
        columns[1] = MODEL_ID;
        System.arraycopy(more, 0, columns, 2, more.length);
        return IcebergCatalogs.withTable(
                iceberg, table, t -> IcebergTableReader.rowsWhere(t, MODEL_ID, modelId, columns));
    }

    private static Instant scannedAt(Record row) {
        return ((OffsetDateTime) row.getField(SCANNED_AT)).toInstant();
    }
}
