package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.CorruptSlides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scan contract of docs/failure-contract.md end to end, against real stores (KRaft broker,
 * Milvus Lite, Iceberg JDBC catalog) with the job as {@code run} builds it, everything read back
 * from the stores themselves:
 *
 * <ol>
 *   <li>the same event twice, and a burst of 200 identical events for another slide: each slide
 *       planned once - exact tile and slide counts in Iceberg and Milvus, one committed result;
 *   <li>a slide whose tiles all fail to read (dead letter, no result), then re-scanned with a good
 *       file: processed;
 *   <li>a re-scan with less tissue (6 of the 12 tiles), followed by the first scan announced late:
 *       every store holds the new scan only - 6 tiles, all with the new {@code scanned_at}, the old
 *       extra tiles gone - and one slide row of the new scan; Kafka keeps both results.
 * </ol>
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ScanContractITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(120);
    private static final Instant FIRST_SCAN = Instant.parse("2026-11-30T08:00:00Z");
    private static final Instant RESCAN = FIRST_SCAN.plus(Duration.ofHours(2));

    @Test
    void duplicatesBurstsReScansAndAReScanAfterAFailedReadFollowTheContract(@TempDir Path dir)
            throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path first =
                EndToEndStack.writeSlide(
                        EndToEndStack.twoBlocks(31), inbox.resolve("a-first.tiff"), 12);
        // The re-scan keeps only the first block: 3 x 2 tiles, all on the first scan's grid.
        Path rescan =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(2048, 2048)
                                .style(Style.GENERIC_TIFF)
                                .seed(32)
                                .tissue(256, 256, 768, 512)
                                .build(),
                        inbox.resolve("a-rescan.tiff"),
                        6);
        Path burst =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(2048, 1536)
                                .style(Style.APERIO)
                                .seed(33)
                                .tissue(512, 512, 1024, 512)
                                .build(),
                        inbox.resolve("b.svs"),
                        8);
        Path unreadable =
                CorruptSlides.zeroLevel0Tiles(
                        EndToEndStack.writeSlide(
                                EndToEndStack.twoBlocks(34), dir.resolve("c-source.tiff"), 12),
                        inbox.resolve("c-unreadable.tiff"));
        Path readable =
                EndToEndStack.writeSlide(
                        EndToEndStack.twoBlocks(35), inbox.resolve("c-good.tiff"), 12);

        try (EndToEndStack stack = EndToEndStack.start(dir, "scan-contract-it", 2)) {
            SlideStreamConfig config = stack.config();
            JobClient job = EndToEndStack.submit(config, "scan-contract-it");
            FlinkRestClient rest = EndToEndStack.rest(FLINK);
            String jobId = job.getJobID().toHexString();
            try (SlidePublisher publisher = stack.publisher("scan-contract-it");
                    CommittedTopic<SlideResult> results =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT);
                    CommittedTopic<SlideFailed> deadLetters =
                            stack.committed(
                                    EmbeddedStack.DEAD_LETTER_TOPIC, AvroCodec.SLIDE_FAILED);
                    MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {

                // 1. Duplicates and a burst; a slide whose every tile fails to read.
                publisher.publish(event("a", first, FIRST_SCAN));
                publisher.publish(event("a", first, FIRST_SCAN));
                for (int i = 0; i < 200; i++) {
                    publisher.publish(event("b", burst, FIRST_SCAN));
                }
                publisher.publish(event("c", unreadable, FIRST_SCAN));
                Map<String, Integer> tiles = new TreeMap<>(Map.of("a", 12, "b", 8));
                awaitPhase(
                        job,
                        "duplicates and burst",
                        () ->
                                resultsPerSlide(results).equals(Map.of("a", 1L, "b", 1L))
                                        && deadLetters.poll().stream()
                                                .anyMatch(
                                                        f -> f.getSlideId().toString().equals("c"))
                                        && StoreContents.reached(config, tiles),
                        () -> state(config, milvus, results));
                awaitCheckpoints(rest, jobId, 2);
                assertThat(resultsPerSlide(results)).isEqualTo(Map.of("a", 1L, "b", 1L));
                assertThat(deadLetters.poll())
                        .filteredOn(f -> f.getSlideId().toString().equals("c"))
                        .isNotEmpty()
                        .allSatisfy(
                                f -> assertThat(f.getCode().toString()).isEqualTo("CORRUPT_SLIDE"));
                assertStores(config, milvus, tiles, Map.of("a", FIRST_SCAN, "b", FIRST_SCAN));
                System.out.printf(
                        "ScanContractITCase: after a duplicate and a burst of 200: Iceberg tiles"
                                + " %s, Milvus tiles a=%d b=%d, results %s%n",
                        icebergTiles(config),
                        milvus.countTiles("a"),
                        milvus.countTiles("b"),
                        resultsPerSlide(results));

                // 2. A re-scan with less tissue, then the first scan announced late; the slide
                // whose read failed, re-scanned.
                publisher.publish(event("a", rescan, RESCAN));
                publisher.publish(event("a", first, FIRST_SCAN.minus(Duration.ofHours(1))));
                publisher.publish(event("c", readable, RESCAN));
                tiles.put("a", 6);
                tiles.put("c", 12);
                awaitPhase(
                        job,
                        "re-scans",
                        () ->
                                resultsPerSlide(results).equals(Map.of("a", 2L, "b", 1L, "c", 1L))
                                        && icebergTiles(config).equals(tiles)
                                        && StoreContents.reached(config, tiles)
                                        && milvus.countTiles("a") == 6,
                        () -> state(config, milvus, results));
                awaitCheckpoints(rest, jobId, 2);
                List<SlideResult> all = results.poll();
                assertThat(resultsPerSlide(results))
                        .as("Kafka keeps every result as history")
                        .isEqualTo(Map.of("a", 2L, "b", 1L, "c", 1L));
                SlideResult latestOfA =
                        all.stream()
                                .filter(r -> r.getSlideId().toString().equals("a"))
                                .reduce((x, y) -> y)
                                .orElseThrow();
                assertThat(latestOfA.getScannedAt()).isEqualTo(RESCAN);
                assertThat(latestOfA.getTileCount()).isEqualTo(6);
                assertThat(latestOfA.getComplete()).isTrue();
                assertStores(
                        config, milvus, tiles, Map.of("a", RESCAN, "b", FIRST_SCAN, "c", RESCAN));
                System.out.printf(
                        "ScanContractITCase: after the re-scans: Iceberg tiles %s, Milvus tiles"
                                + " a=%d b=%d c=%d, results %s%n",
                        icebergTiles(config),
                        milvus.countTiles("a"),
                        milvus.countTiles("b"),
                        milvus.countTiles("c"),
                        resultsPerSlide(results));
            } finally {
                EndToEndStack.cancel(job);
            }
        }
    }

    /**
     * Exactly {@code tiles} per slide in Iceberg {@code tiles} (no key twice) and Milvus, every
     * tile and the one slide row in both stores carrying the slide's latest scan.
     */
    private static void assertStores(
            SlideStreamConfig config,
            MilvusStoreReader milvus,
            Map<String, Integer> tiles,
            Map<String, Instant> latestScan) {
        StoreContents.assertExactlyOnce(config, tiles);
        var iceberg = config.iceberg();
        for (String table : List.of(iceberg.tilesTable(), iceberg.slidesTable())) {
            Map<String, Set<Instant>> scans = new TreeMap<>();
            for (Record r : IcebergTableReader.rows(iceberg, table, "slide_id", "scanned_at")) {
                scans.computeIfAbsent((String) r.getField("slide_id"), k -> new HashSet<>())
                        .add(((OffsetDateTime) r.getField("scanned_at")).toInstant());
            }
            Map<String, Set<Instant>> expected = new TreeMap<>();
            latestScan.forEach((slide, at) -> expected.put(slide, Set.of(at)));
            assertThat(scans).as("scanned_at per slide in Iceberg %s", table).isEqualTo(expected);
        }
        latestScan.forEach(
                (slide, at) -> {
                    String filter =
                            MilvusCollections.SLIDE_ID
                                    + " == "
                                    + MilvusStoreReader.quote(slide)
                                    + " and "
                                    + MilvusCollections.SCANNED_AT
                                    + " == "
                                    + at.toEpochMilli();
                    assertThat(milvus.countWhere(config.milvus().tilesCollection(), filter))
                            .as("Milvus tiles of %s scanned at %s", slide, at)
                            .isEqualTo(tiles.get(slide).longValue());
                    assertThat(milvus.countWhere(config.milvus().slidesCollection(), filter))
                            .as("Milvus slide of %s scanned at %s", slide, at)
                            .isEqualTo(1);
                });
    }

    private static String state(
            SlideStreamConfig config,
            MilvusStoreReader milvus,
            CommittedTopic<SlideResult> results) {
        return "Iceberg tiles "
                + icebergTiles(config)
                + ", Milvus tiles "
                + milvus.countPerSlide(config.milvus().tilesCollection(), List.of("a", "b", "c"))
                + ", results "
                + resultsPerSlide(results);
    }

    private static Map<String, Integer> icebergTiles(SlideStreamConfig config) {
        Map<String, Integer> counts = new TreeMap<>();
        IcebergTableReader.countPerSlide(config.iceberg(), config.iceberg().tilesTable())
                .forEach((slide, n) -> counts.put(slide, n.intValue()));
        return counts;
    }

    private static Map<String, Long> resultsPerSlide(CommittedTopic<SlideResult> results) {
        return results.poll().stream()
                .collect(
                        Collectors.groupingBy(
                                r -> r.getSlideId().toString(),
                                TreeMap::new,
                                Collectors.counting()));
    }

    private static void awaitPhase(
            JobClient job, String phase, BooleanSupplier reached, Supplier<String> now)
            throws Exception {
        try {
            EndToEndStack.awaitWhileRunning(job, PHASE_TIMEOUT, phase, reached);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    phase + " not reached within " + PHASE_TIMEOUT + "; now " + now.get(), e);
        }
    }

    /** Anything more (a duplicate) would be committed by the next checkpoints: wait for them. */
    private static void awaitCheckpoints(FlinkRestClient rest, String jobId, int more)
            throws Exception {
        long checkpoints = rest.completedCheckpoints(jobId);
        assertThat(
                        EndToEndStack.await(
                                Duration.ofSeconds(30),
                                () -> rest.completedCheckpoints(jobId) >= checkpoints + more))
                .as("%d more checkpoints after %d", more, checkpoints)
                .isTrue();
    }

    private static SlideScanned event(String slideId, Path file, Instant scannedAt) {
        return SlideScanned.newBuilder()
                .setSlideId(slideId)
                .setUri(file.toAbsolutePath().toString())
                .setScannedAt(scannedAt)
                .setScannerId("scan-contract-it")
                .build();
    }
}
