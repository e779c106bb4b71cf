package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.job.StoreSinks;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.CorruptSlides;
import io.slidestream.testing.TestSlides;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job end to end, as {@code slidestream run} builds it, against a real in-process KRaft
 * broker, Milvus Lite and an Iceberg JDBC catalog on a Flink MiniCluster with checkpoints: two
 * synthetic slides with a known tissue layout (generic TIFF and Aperio), the real H&amp;E slide
 * CMU-1-Small-Region, a truncated and a corrupt slide (both fail when planned), two slides that
 * plan but fail when tiles are read (every tile, or half of them), and an undecodable Kafka record
 * go in; the test then reads every store back: exact tile counts per slide in Iceberg and Milvus,
 * one slide row and one committed result per good slide, dead letters with the right codes, and a
 * Milvus search with a tile's own embedding that finds that tile first. The read failures close
 * their slide windows through failed-tile markers, well inside the hour of the slide timeout: the
 * half-read slide gets one incomplete result of its read tiles, the unread one none at all, and
 * neither has a tile of a failed read in the stores.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SlideStreamJobITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final Duration RESULTS_TIMEOUT = Duration.ofSeconds(120);

    @Test
    void embedsGoodSlidesIntoEveryStoreAndDeadLettersTheBadOnes(@TempDir Path dir)
            throws Exception {
        long begin = System.nanoTime();
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // Tissue rectangles on the 256 px grid of a 0.5 µm/px slide: 3x2 + 2x3 and 4x2 tiles.
        Path generic =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(2048, 2048)
                                .style(Style.GENERIC_TIFF)
                                .seed(11)
                                .tissue(256, 256, 768, 512)
                                .tissue(1280, 1024, 512, 768)
                                .build(),
                        inbox.resolve("generic.tiff"),
                        12);
        Path aperio =
                EndToEndStack.writeSlide(
                        SyntheticSlideWriter.builder()
                                .size(2048, 1536)
                                .style(Style.APERIO)
                                .seed(12)
                                .tissue(512, 512, 1024, 512)
                                .build(),
                        inbox.resolve("aperio.svs"),
                        8);
        Path cmu1 = TestSlides.cmu1SmallRegion();
        // The first half of a real slide: its directory is gone, so it fails when opened.
        Path truncated = inbox.resolve("truncated.tiff");
        byte[] whole = Files.readAllBytes(generic);
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        // Opens as Aperio, but its tile data is broken: already fails when planned (the tissue
        // mask cannot be read).
        Path unreadable = TestSlides.slideFixture("unreadable.svs");
        // Plan fine (the mask comes from a coarse level) but fail when their tiles are read: every
        // level-0 tile broken, and only those of the second tissue block (6 of 12 tiles).
        Path readFailure =
                CorruptSlides.zeroLevel0Tiles(
                        EndToEndStack.writeSlide(
                                EndToEndStack.twoBlocks(13),
                                dir.resolve("read-failure-source.tiff"),
                                12),
                        inbox.resolve("read-failure.tiff"));
        Path halfRead =
                CorruptSlides.zeroLevel0Tiles(
                        EndToEndStack.writeSlide(
                                EndToEndStack.twoBlocks(14),
                                dir.resolve("half-read-source.tiff"),
                                12),
                        inbox.resolve("half-read.tiff"),
                        1280,
                        1024,
                        512,
                        768);

        try (EndToEndStack stack = EndToEndStack.start(dir, "slidestream-job-it", 2)) {
            SlideStreamConfig config = stack.config();

            Map<String, Integer> planned = new LinkedHashMap<>();
            planned.put("generic-tiff", EndToEndStack.plannedTiles(config, generic));
            planned.put("aperio", EndToEndStack.plannedTiles(config, aperio));
            planned.put("cmu-1-small-region", EndToEndStack.plannedTiles(config, cmu1));
            assertThat(planned.get("generic-tiff")).isEqualTo(12);
            assertThat(planned.get("aperio")).isEqualTo(8);
            assertThat(planned.get("cmu-1-small-region")).isBetween(20, 120);
            assertThat(EndToEndStack.plannedTiles(config, readFailure)).isEqualTo(12);
            assertThat(EndToEndStack.plannedTiles(config, halfRead)).isEqualTo(12);
            // Slides with tiles that fail on read: the tiles each has in the stores (and its
            // result's tiles_received; none means no result at all). The slide timeout is an hour:
            // only the failed-tile markers can close these windows within the test.
            Map<String, Integer> readFailures = new LinkedHashMap<>();
            readFailures.put("read-failure", 0);
            readFailures.put("half-read", 6);

            Map<String, ErrorCode> bad = new LinkedHashMap<>();
            try (SlidePublisher publisher =
                    SlidePublisher.builder()
                            .bootstrapServers(stack.bootstrapServers())
                            .topic(EmbeddedStack.SCANNED_TOPIC)
                            .scannerId("slide-stream-job-it")
                            .build()) {
                publisher.publish(generic, "generic-tiff");
                publisher.publish(aperio, "aperio");
                publisher.publish(cmu1, "cmu-1-small-region");
                publisher.publish(truncated, "truncated");
                publisher.publish(unreadable, "unreadable");
                publisher.publish(readFailure, "read-failure");
                publisher.publish(halfRead, "half-read");
            }
            bad.put("truncated", ErrorCode.CORRUPT_SLIDE);
            bad.put("unreadable", ErrorCode.CORRUPT_SLIDE);
            bad.put("read-failure", ErrorCode.CORRUPT_SLIDE);
            bad.put("half-read", ErrorCode.CORRUPT_SLIDE);
            String malformed =
                    stack.publishRaw(
                            "garbage", "not an Avro event".getBytes(StandardCharsets.UTF_8));
            bad.put(malformed, ErrorCode.MALFORMED_EVENT);

            StreamExecutionEnvironment env = EndToEndStack.environment(config);
            SlideStreamJob.define(
                    env, config, SlideStreamJob.kafkaEvents(env, config), new StoreSinks(config));
            JobClient job = env.executeAsync("slide-stream-job-it");

            List<SlideResult> results;
            List<SlideFailed> deadLetters;
            try (var resultsTopic =
                            stack.committed(EmbeddedStack.RESULTS_TOPIC, AvroCodec.SLIDE_RESULT);
                    var deadLetterTopic =
                            stack.committed(
                                    EmbeddedStack.DEAD_LETTER_TOPIC, AvroCodec.SLIDE_FAILED)) {
                long deadline = System.nanoTime() + RESULTS_TIMEOUT.toNanos();
                while (resultsTopic.poll().size() < planned.size() + 1
                        || deadLetterTopic.poll().size() < bad.size()) {
                    EndToEndStack.assertRunning(job);
                    assertThat(System.nanoTime())
                            .as(
                                    "results %s and dead letters %s within %s",
                                    resultsTopic.poll().size(),
                                    deadLetterTopic.poll().size(),
                                    RESULTS_TIMEOUT)
                            .isLessThan(deadline);
                }
                System.out.printf(
                        "SlideStreamJobITCase: all results committed after %d ms%n",
                        (System.nanoTime() - begin) / 1_000_000);

                // Iceberg and Milvus commit on the same checkpoints as the Kafka transactions,
                // but each on its own; give the last commits a moment before reading them.
                try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
                    boolean settled =
                            EndToEndStack.await(
                                    Duration.ofSeconds(30),
                                    () ->
                                            storesHold(
                                                    config,
                                                    milvus,
                                                    storedTiles(planned, readFailures),
                                                    bad.size()));
                    System.out.printf("SlideStreamJobITCase: stores settled: %s%n", settled);
                }
                // Anything more (a duplicate) would be committed by the next checkpoints: wait
                // for two more to complete (read from the MiniCluster's REST API).
                FlinkRestClient rest =
                        new FlinkRestClient(
                                "http://127.0.0.1:"
                                        + FLINK.getClientConfiguration().get(RestOptions.PORT));
                String jobId = job.getJobID().toHexString();
                long checkpoints = rest.completedCheckpoints(jobId);
                assertThat(
                                EndToEndStack.await(
                                        Duration.ofSeconds(30),
                                        () -> rest.completedCheckpoints(jobId) >= checkpoints + 2))
                        .as("two more checkpoints after %s", checkpoints)
                        .isTrue();
                results = resultsTopic.poll();
                deadLetters = deadLetterTopic.poll();
            } finally {
                EndToEndStack.cancel(job);
            }

            assertResults(results, planned, readFailures);
            assertDeadLetters(deadLetters, bad, readFailures.keySet());
            assertStores(config, planned, bad, readFailures);
            System.out.printf(
                    "SlideStreamJobITCase: %d ms in all, tiles %s%n",
                    (System.nanoTime() - begin) / 1_000_000, planned);
        }
    }

    private static boolean storesHold(
            SlideStreamConfig config,
            MilvusStoreReader milvus,
            Map<String, Integer> planned,
            int failures) {
        var iceberg = config.iceberg();
        Map<String, Long> tiles = IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable());
        Map<String, Long> slides = IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable());
        int errors = IcebergTableReader.rows(iceberg, iceberg.errorsTable(), "slide_id").size();
        for (var e : planned.entrySet()) {
            if (e.getValue() == 0) {
                continue;
            }
            if (tiles.getOrDefault(e.getKey(), 0L) < e.getValue()
                    || slides.getOrDefault(e.getKey(), 0L) < 1
                    || milvus.countTiles(e.getKey()) < e.getValue()
                    || milvus.countSlides(e.getKey()) < 1) {
                return false;
            }
        }
        return errors >= failures;
    }

    /** The tiles each slide should have in the stores: all of a good slide, the read ones else. */
    private static Map<String, Integer> storedTiles(
            Map<String, Integer> planned, Map<String, Integer> readFailures) {
        Map<String, Integer> stored = new LinkedHashMap<>(planned);
        stored.putAll(readFailures);
        return stored;
    }

    private static void assertResults(
            List<SlideResult> results,
            Map<String, Integer> planned,
            Map<String, Integer> readFailures) {
        List<String> expected = new java.util.ArrayList<>(planned.keySet());
        readFailures.forEach(
                (slide, read) -> {
                    if (read > 0) {
                        expected.add(slide);
                    }
                });
        // A slide none of whose tiles could be read has no result at all.
        assertThat(results)
                .extracting(r -> r.getSlideId().toString())
                .containsExactlyInAnyOrderElementsOf(expected);
        for (SlideResult r : results) {
            Integer read = readFailures.get(r.getSlideId().toString());
            if (read != null) {
                // Closed as soon as every tile was read or marked failed, long before the timeout.
                assertThat(r.getComplete()).as("complete %s", r.getSlideId()).isFalse();
                assertThat(r.getTileCount()).isEqualTo(12);
                assertThat(r.getTilesReceived()).isEqualTo(read);
                assertThat(r.getMeanEmbedding()).hasSize(256);
                continue;
            }
            int tiles = planned.get(r.getSlideId());
            assertThat(r.getComplete()).as("complete %s", r.getSlideId()).isTrue();
            assertThat(r.getTileCount()).isEqualTo(tiles);
            assertThat(r.getTilesReceived()).isEqualTo(tiles);
            assertThat(r.getModelId()).startsWith("gpfm-tiny");
            assertThat(r.getMeanEmbedding()).hasSize(256);
            // The ABMIL head of gpfm-tiny has two classes.
            assertThat(r.getLogits()).hasSize(2);
            assertThat(r.getProbabilities()).hasSize(2);
            assertThat(r.getProbabilities().get(0) + r.getProbabilities().get(1))
                    .isCloseTo(1f, within(1e-4f));
            assertThat(r.getPredictedClass()).isBetween(0, 1);

            List<ClassFraction> composition = r.getTissueComposition();
            assertThat(composition).isNotEmpty();
            assertThat(composition)
                    .extracting(c -> c.getLabel().toString())
                    .isSubsetOf(EndToEndStack.TISSUE_CLASSES)
                    .doesNotHaveDuplicates();
            assertThat(composition.stream().mapToDouble(ClassFraction::getFraction).sum())
                    .isCloseTo(1.0, within(1e-3));

            List<AttentionTile> top = r.getTopTiles();
            assertThat(top).hasSize(Math.min(4, tiles));
            for (int i = 1; i < top.size(); i++) {
                assertThat(top.get(i).getAttention())
                        .isLessThanOrEqualTo(top.get(i - 1).getAttention());
            }
        }
    }

    /**
     * One dead letter per bad slide, except a slide failing on read: each reader subtask that meets
     * one of its tiles reports it once (two slots here).
     */
    private static void assertDeadLetters(
            List<SlideFailed> deadLetters, Map<String, ErrorCode> bad, Set<String> readFailures) {
        assertFailuresPerSlide(
                deadLetters.stream()
                        .map(f -> f.getSlideId() + "=" + f.getCode() + "@" + f.getStage())
                        .toList(),
                readFailures);
        Map<String, String> codes =
                deadLetters.stream()
                        .collect(
                                Collectors.toMap(
                                        f -> f.getSlideId().toString(),
                                        f -> f.getCode().toString(),
                                        (a, b) -> a.equals(b) ? a : a + "," + b));
        assertThat(codes)
                .isEqualTo(
                        bad.entrySet().stream()
                                .collect(
                                        Collectors.toMap(
                                                Map.Entry::getKey, e -> e.getValue().name())));
        assertThat(deadLetters).allSatisfy(f -> assertThat(f.getMessage()).isNotBlank());
    }

    /** {@code failures} as "slide=CODE@stage": once per slide, 1 or 2 times for read failures. */
    private static void assertFailuresPerSlide(List<String> failures, Set<String> readFailures) {
        Map<String, Long> perSlide =
                failures.stream()
                        .collect(
                                Collectors.groupingBy(
                                        f -> f.substring(0, f.indexOf('=')),
                                        Collectors.counting()));
        perSlide.forEach(
                (slide, n) -> {
                    if (readFailures.contains(slide)) {
                        assertThat(n).as("dead letters of %s", slide).isBetween(1L, 2L);
                    } else {
                        assertThat(n).as("dead letters of %s", slide).isEqualTo(1L);
                    }
                });
        assertThat(failures)
                .filteredOn(f -> readFailures.contains(f.substring(0, f.indexOf('='))))
                .allSatisfy(f -> assertThat(f).endsWith("=CORRUPT_SLIDE@read"));
    }

    private static void assertStores(
            SlideStreamConfig config,
            Map<String, Integer> planned,
            Map<String, ErrorCode> bad,
            Map<String, Integer> readFailures)
            throws Exception {
        var iceberg = config.iceberg();
        List<Record> tiles =
                IcebergTableReader.rows(
                        iceberg,
                        iceberg.tilesTable(),
                        "tile_key",
                        "slide_id",
                        "uri",
                        "read_px",
                        "extent_px",
                        "level",
                        "x",
                        "y",
                        "embedding",
                        "head_probabilities",
                        "predicted_class");
        // Failed-tile markers never reach the tile sinks: only tiles that were read are stored.
        Map<String, Long> expected = new LinkedHashMap<>();
        storedTiles(planned, readFailures)
                .forEach(
                        (slide, n) -> {
                            if (n > 0) {
                                expected.put(slide, (long) n);
                            }
                        });
        assertThat(EndToEndStack.countBySlide(tiles)).isEqualTo(expected);
        for (String slide : planned.keySet()) {
            Set<String> cells = new HashSet<>();
            tiles.stream()
                    .filter(t -> t.getField("slide_id").equals(slide))
                    .forEach(t -> cells.add(t.getField("x") + "," + t.getField("y")));
            assertThat(cells).as("distinct tiles of %s", slide).hasSize(planned.get(slide));
        }
        assertThat(tiles)
                .allSatisfy(
                        t -> {
                            assertThat((List<?>) t.getField("embedding")).hasSize(256);
                            assertThat((List<?>) t.getField("head_probabilities")).hasSize(9);
                            assertThat((Integer) t.getField("predicted_class")).isBetween(0, 8);
                        });

        Map<String, Long> onePerSlide = new LinkedHashMap<>();
        expected.keySet().forEach(slide -> onePerSlide.put(slide, 1L));
        assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable()))
                .isEqualTo(onePerSlide);

        List<Record> errors =
                IcebergTableReader.rows(
                        iceberg, iceberg.errorsTable(), "slide_id", "code", "stage");
        assertFailuresPerSlide(
                errors.stream()
                        .map(
                                e ->
                                        e.getField("slide_id")
                                                + "="
                                                + e.getField("code")
                                                + "@"
                                                + e.getField("stage"))
                        .toList(),
                readFailures.keySet());
        assertThat(errors)
                .extracting(e -> e.getField("slide_id") + "=" + e.getField("code"))
                .hasSameElementsAs(
                        bad.entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue().name())
                                .toList());

        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
            for (var e : planned.entrySet()) {
                assertThat(milvus.countTiles(e.getKey()))
                        .as("Milvus tiles of %s", e.getKey())
                        .isEqualTo(e.getValue().longValue());
                assertThat(milvus.countSlides(e.getKey())).isEqualTo(1);
            }
            for (var e : readFailures.entrySet()) {
                assertThat(milvus.countTiles(e.getKey()))
                        .as("Milvus tiles of %s", e.getKey())
                        .isEqualTo(e.getValue().longValue());
                assertThat(milvus.countSlides(e.getKey())).isEqualTo(e.getValue() > 0 ? 1 : 0);
            }
            // One tile of each slide: its own embedding finds it first, among all slides' tiles.
            for (String slide : planned.keySet()) {
                Record tile =
                        tiles.stream()
                                .filter(t -> t.getField("slide_id").equals(slide))
                                .findFirst()
                                .orElseThrow();
                List<?> values = (List<?>) tile.getField("embedding");
                float[] vector = new float[values.size()];
                for (int i = 0; i < vector.length; i++) {
                    vector[i] = ((Number) values.get(i)).floatValue();
                }
                List<TileHit> hits = milvus.searchTiles(vector, 3, null);
                assertThat(hits).hasSize(3);
                TileHit first = hits.get(0);
                assertThat(first.tileKey()).isEqualTo((Long) tile.getField("tile_key"));
                assertThat(first.slideId()).isEqualTo(slide);
                assertThat(first.x()).isEqualTo((Long) tile.getField("x"));
                assertThat(first.y()).isEqualTo((Long) tile.getField("y"));
                // The same geometry in both stores: where the tile is and how it was read.
                assertThat(first.uri()).isEqualTo(tile.getField("uri")).isNotNull();
                assertThat(first.level()).isEqualTo(tile.getField("level"));
                assertThat(first.readPx()).isEqualTo(tile.getField("read_px"));
                assertThat(first.extentPx()).isEqualTo(tile.getField("extent_px"));
                assertThat(first.extentPx()).isPositive();
                // COSINE: a vector's similarity to itself is 1.
                assertThat(first.score()).isCloseTo(1f, within(1e-3f));
                assertThat(hits.get(1).tileKey()).isNotEqualTo(first.tileKey());
            }
        }
    }
}
