package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.SlideErasure;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergMaintenance;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stores' upkeep while the job runs. {@code maintain} leaves each table with one data file per
 * partition and no delete file, every row still there, and the job committing on. Then a slide
 * forgotten on request: afterwards no file under the warehouse holds its id (every Parquet file's
 * slide ids read back, every Avro manifest's entries and bounds read back, every other file's bytes
 * searched), Milvus holds none of its entities, the other slides are whole, the erasure record
 * names it by its SHA-256 only, a second forget does nothing, and the running job goes on
 * committing - told through a tombstone on {@code slides.scanned}, its planner has forgotten the
 * slide, so even a repeat of the erased announcement is processed as new.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class StoreUpkeepITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final String GONE = "patient-slide-erase-me";

    @TempDir static Path dir;

    @Test
    void aForgottenSlideLeavesNoTraceAndTheJobGoesOn() throws Exception {
        Path slides = Files.createDirectories(dir.resolve("slides"));
        Map<String, Path> files = new LinkedHashMap<>();
        for (String id : List.of("keep-0", GONE, "keep-1")) {
            files.put(
                    id,
                    EndToEndStack.writeSlide(
                            EndToEndStack.sixByFive(files.size() + 700),
                            slides.resolve(id + ".tiff"),
                            30));
        }
        try (EndToEndStack stack = EndToEndStack.start(dir, "forget-it", 2)) {
            SlideStreamConfig job = stack.config();
            JobClient running = EndToEndStack.submit(job, "forget-it");
            try (SlidePublisher publisher = stack.publisher("forget-it")) {
                Map<String, Integer> planned = new TreeMap<>();
                Map<String, Instant> scanned = new TreeMap<>();
                for (var e : files.entrySet()) {
                    scanned.put(e.getKey(), Instant.now());
                    publish(publisher, e.getKey(), e.getValue(), scanned.get(e.getKey()));
                    planned.put(e.getKey(), 30);
                }
                EndToEndStack.awaitWhileRunning(
                        running,
                        Duration.ofMinutes(3),
                        "three slides in the stores",
                        () -> StoreContents.reached(job, planned));

                long maintainStart = System.currentTimeMillis();
                CommandRun maintain =
                        cli(
                                stack,
                                "maintain",
                                "-D",
                                "iceberg.maintenance.snapshot-max-age=0s",
                                "-D",
                                "iceberg.maintenance.snapshots-min=1");
                assertThat(maintain.code()).as(maintain.output()).isZero();
                assertThat(maintain.out()).containsPattern("tiles +before +90 ");
                // Two snapshots stay: the compaction's and the sink's last commit, which a
                // restarted sink reads its last committed checkpoint from.
                assertThat(maintain.out()).containsPattern("after +90 +\\d+ +0 +2 ");
                for (String table :
                        List.of(job.iceberg().tilesTable(), job.iceberg().slidesTable())) {
                    IcebergMaintenance.State state =
                            IcebergCatalogs.withTable(
                                    job.iceberg(), table, IcebergMaintenance::state);
                    assertThat(state.deleteFiles()).as("delete files of %s", table).isZero();
                    // Older than maintain: only the sink's last commit (the job may have committed
                    // since, after it).
                    assertThat(snapshotsBefore(job, table, maintainStart))
                            .as("snapshots of %s older than maintain", table)
                            .allSatisfy(
                                    s ->
                                            assertThat(s.summary())
                                                    .containsKey(
                                                            "flink.max-committed-checkpoint-id"))
                            .hasSizeLessThanOrEqualTo(1);
                    assertThat(state.dataFiles())
                            .as("data files of %s", table)
                            .isEqualTo(partitions(job, table));
                }
                assertThat(tilesPerSlide(job))
                        .isEqualTo(Map.of("keep-0", 30L, GONE, 30L, "keep-1", 30L));

                long forgetStart = System.currentTimeMillis();
                CommandRun forget =
                        cli(stack, "forget", "--slide-id", GONE, "--reason", "patient asked");
                assertThat(forget.code()).as(forget.output()).isZero();
                assertThat(forget.out())
                        .contains("iceberg tiles: 30 rows")
                        .contains("iceberg slides: 1 rows")
                        .contains("30 entities")
                        .contains("planner: the job's planner told through a tombstone on");

                assertThat(tilesPerSlide(job)).isEqualTo(Map.of("keep-0", 30L, "keep-1", 30L));
                assertThat(
                                IcebergTableReader.countPerSlide(
                                        job.iceberg(), job.iceberg().slidesTable()))
                        .isEqualTo(Map.of("keep-0", 1L, "keep-1", 1L));
                try (MilvusStoreReader milvus = MilvusStoreReader.open(job.milvus())) {
                    assertThat(milvus.countTiles(GONE)).isZero();
                    assertThat(milvus.countSlides(GONE)).isZero();
                    assertThat(milvus.countTiles("keep-0")).isEqualTo(30);
                    assertThat(milvus.countTiles("keep-1")).isEqualTo(30);
                }
                assertThat(oldestSnapshot(job, job.iceberg().tilesTable()))
                        .as("every snapshot from before the erasure expired")
                        .isGreaterThanOrEqualTo(forgetStart);
                assertThat(filesHoldingNow(job, GONE)).as("files that hold the id").isEmpty();
                assertThat(filesHoldingNow(job, "keep-0"))
                        .as("the check finds a slide that is there, in each kind of file")
                        .anyMatch(f -> f.startsWith("parquet row"))
                        .anyMatch(f -> f.startsWith("avro entry"))
                        .anyMatch(f -> f.startsWith("bytes"));
                List<Record> erasures = IcebergTableReader.rows(job.iceberg(), "erasures");
                assertThat(erasures)
                        .singleElement()
                        .satisfies(
                                r -> {
                                    assertThat(r.getField("slide_sha256"))
                                            .isEqualTo(SlideErasure.sha256(GONE));
                                    assertThat(r.getField("reason")).isEqualTo("patient asked");
                                });

                CommandRun again = cli(stack, "forget", "--slide-id", GONE);
                assertThat(again.code()).as(again.output()).isZero();
                assertThat(again.out()).contains("nothing done");
                // Without the job's brokers no planner can be told, and forget says so.
                CommandRun noKafka =
                        CommandRun.of(
                                stack.keyArguments("iceberg.", "milvus."),
                                "forget",
                                "--slide-id",
                                GONE);
                assertThat(noKafka.code()).as(noKafka.output()).isZero();
                assertThat(noKafka.out())
                        .contains("nothing done")
                        .contains("planner: no kafka.bootstrap-servers in the configuration");
                assertThat(IcebergTableReader.rows(job.iceberg(), "erasures")).hasSize(1);

                // The job goes on: a new slide, and the forgotten slide announced again - the
                // very announcement that was erased, which the planner no longer remembers.
                Path later =
                        EndToEndStack.writeSlide(
                                EndToEndStack.sixByFive(799), slides.resolve("later.tiff"), 30);
                publish(publisher, "later", later, Instant.now());
                publish(publisher, GONE, files.get(GONE), scanned.get(GONE));
                EndToEndStack.awaitWhileRunning(
                        running,
                        Duration.ofMinutes(3),
                        "the later slide and the repeated announcement in the stores",
                        () -> StoreContents.reached(job, Map.of("later", 30, GONE, 30)));
                assertThat(tilesPerSlide(job))
                        .isEqualTo(Map.of("keep-0", 30L, "keep-1", 30L, "later", 30L, GONE, 30L));
            } finally {
                EndToEndStack.cancel(running);
            }
        }
    }

    /**
     * {@link #filesHolding} from the first pass that reads every file whole: the running job may be
     * writing a manifest or deleting an expired file at that moment.
     */
    private static List<String> filesHoldingNow(SlideStreamConfig job, String id) {
        return Awaitility.await("a pass over the warehouse that reads every file whole")
                .atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsMatching(
                        e -> e instanceof java.io.IOException || e instanceof RuntimeException)
                .until(() -> filesHolding(job, id), pass -> true);
    }

    /**
     * The files under the warehouse that hold {@code id}, each as "kind path": its raw bytes, a
     * slide id of a Parquet file read back, a record of an Avro file (manifest entries with their
     * bounds) read back.
     */
    private static List<String> filesHolding(SlideStreamConfig job, String id) throws Exception {
        Path warehouse = Path.of(java.net.URI.create(job.iceberg().warehouseLocation()));
        byte[] needle = id.getBytes(StandardCharsets.UTF_8);
        List<Path> all;
        try (Stream<Path> walk = Files.walk(warehouse)) {
            all = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(all).isNotEmpty();
        List<String> holding = new ArrayList<>();
        for (Path file : all) {
            if (indexOf(Files.readAllBytes(file), needle) >= 0) {
                holding.add("bytes " + file);
            }
            String name = file.getFileName().toString();
            if (name.endsWith(".parquet")) {
                String table = warehouse.relativize(file).getName(1).toString();
                Schema schema = IcebergCatalogs.withTable(job.iceberg(), table, Table::schema);
                Types.NestedField slideId = schema.findField("slide_id");
                if (slideId == null) {
                    continue;
                }
                Schema projection =
                        new Schema(
                                Types.NestedField.optional(
                                        slideId.fieldId(), "slide_id", Types.StringType.get()));
                try (CloseableIterable<Record> rows =
                        Parquet.read(org.apache.iceberg.Files.localInput(file.toFile()))
                                .project(projection)
                                .createReaderFunc(
                                        fs -> GenericParquetReaders.buildReader(projection, fs))
                                .build()) {
                    for (Record r : rows) {
                        if (id.equals(r.getField("slide_id"))) {
                            holding.add("parquet row " + file);
                            break;
                        }
                    }
                }
            } else if (name.endsWith(".avro")) {
                try (DataFileReader<GenericRecord> records =
                        new DataFileReader<>(file.toFile(), new GenericDatumReader<>())) {
                    for (GenericRecord r : records) {
                        if (r.toString().contains(id)) {
                            holding.add("avro entry " + file);
                            break;
                        }
                    }
                }
            }
        }
        return holding;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Partitions of {@code table} that hold rows now. */
    private static long partitions(SlideStreamConfig job, String table) {
        return IcebergCatalogs.withTable(
                job.iceberg(),
                table,
                t -> {
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    try (CloseableIterable<org.apache.iceberg.FileScanTask> tasks =
                            t.newScan().planFiles()) {
                        tasks.forEach(
                                task ->
                                        seen.add(
                                                t.spec().partitionToPath(task.file().partition())));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return (long) seen.size();
                });
    }

    /** When the oldest snapshot of {@code table} was committed. */
    private static List<org.apache.iceberg.Snapshot> snapshotsBefore(
            SlideStreamConfig job, String table, long millis) {
        return IcebergCatalogs.withTable(
                job.iceberg(),
                table,
                t -> {
                    List<org.apache.iceberg.Snapshot> older = new ArrayList<>();
                    for (org.apache.iceberg.Snapshot snapshot : t.snapshots()) {
                        if (snapshot.timestampMillis() < millis) {
                            older.add(snapshot);
                        }
                    }
                    return older;
                });
    }

    private static long oldestSnapshot(SlideStreamConfig job, String table) {
        return IcebergCatalogs.withTable(
                job.iceberg(),
                table,
                t -> {
                    long oldest = Long.MAX_VALUE;
                    for (org.apache.iceberg.Snapshot snapshot : t.snapshots()) {
                        oldest = Math.min(oldest, snapshot.timestampMillis());
                    }
                    return oldest;
                });
    }

    private static Map<String, Long> tilesPerSlide(SlideStreamConfig job) {
        return IcebergTableReader.countPerSlide(job.iceberg(), job.iceberg().tilesTable());
    }

    private static void publish(SlidePublisher publisher, String id, Path file, Instant scanned) {
        publisher.publish(
                SlideScanned.newBuilder()
                        .setSlideId(id)
                        .setUri(file.toString())
                        .setScannedAt(scanned)
                        .setScannerId("forget-it")
                        .build());
    }

    private static CommandRun cli(EndToEndStack stack, String... args) {
        return CommandRun.of(stack.keyArguments("iceberg.", "milvus.", "kafka."), args);
    }
}
