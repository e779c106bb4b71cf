package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.sink.IcebergSinks;
import io.slidestream.sink.SinkTestData;
import io.slidestream.slide.OpenSlide;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * {@code slidestream serve} on the stores of a real run: the job embeds three slides (two under the
 * service's allowed root, one elsewhere) and fails a fourth (no tissue), then the service answers
 * every route of its API from those Milvus collections and Iceberg tables, and refuses what it
 * should with the right status and a JSON error, never a stack trace.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServeITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir static Path dir;
    static EndToEndStack stack;
    static SlideStreamServer server;
    private static Path auditLog;
    static String model;
    static Path slideA;

    /**
     * Once, before the first test: in a {@code @BeforeEach} because the MiniCluster extension makes
     * its cluster the execution environment for each test, not for {@code @BeforeAll}.
     */
    @BeforeEach
    void runTheJobThenServeOnce() throws Exception {
        if (server == null) {
            runTheJobThenServe();
        }
    }

    private static void runTheJobThenServe() throws Exception {
        Path roots = Files.createDirectories(dir.resolve("slides"));
        Path other = Files.createDirectories(dir.resolve("other"));
        slideA = EndToEndStack.writeSlide(EndToEndStack.twoBlocks(81), roots.resolve("a.tiff"), 12);
        Path slideB =
                EndToEndStack.writeSlide(EndToEndStack.twoBlocks(82), roots.resolve("b.tiff"), 12);
        Path slideC =
                EndToEndStack.writeSlide(EndToEndStack.twoBlocks(83), other.resolve("c.tiff"), 12);
        Path blank =
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .style(Style.APERIO)
                        .seed(84)
                        .noTissue()
                        .build()
                        .write(roots.resolve("blank.svs"))
                        .file();
        stack = EndToEndStack.start(dir, "serve-it", 2);
        SlideStreamConfig job = stack.config();
        JobClient running = EndToEndStack.submit(job, "serve-it");
        try (SlidePublisher publisher = stack.publisher("serve-it")) {
            for (var e : Map.of("a", slideA, "b", slideB, "c", slideC, "blank", blank).entrySet()) {
                publisher.publish(
                        SlideScanned.newBuilder()
                                .setSlideId(e.getKey())
                                .setUri(e.getValue().toString())
                                .setScannedAt(Instant.now())
                                .setScannerId("serve-it")
                                .build());
            }
            assertThat(
                            EndToEndStack.await(
                                    Duration.ofMinutes(3),
                                    () ->
                                            StoreContents.reached(
                                                    job, Map.of("a", 12, "b", 12, "c", 12))))
                    .as("the job's results in the stores")
                    .isTrue();
        } finally {
            EndToEndStack.cancel(running);
        }
        // A slide whose tiles are being stored: 5 of its 20 tiles committed, no result yet.
        StreamExecutionEnvironment env = StoreTestEnvironment.create(1);
        IcebergSinks.appendTiles(
                env.fromData(SinkTestData.tiles("d", 20, 5, 8).subList(0, 5)), job.iceberg());
        env.execute("tiles of a slide in progress");
        // The service may open slides under slides/ only: c was embedded but lies elsewhere.
        SlideStreamConfig serve = stack.config(Map.of("slides.allowed-roots", roots.toString()));
        auditLog = dir.resolve("audit.jsonl");
        server =
                SlideStreamServer.start(
                        io.slidestream.serve.ServeConfig.of(serve)
                                .withAccess(
                                        io.slidestream.serve.ServeAccess.OPEN.withAuditLog(
                                                auditLog)),
                        "127.0.0.1",
                        0);
        model = server.modelId();
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void listsTheSlidesWithStatusPredictionAndTileCountsAndPages() throws Exception {
        JsonNode all = getJson("/api/slides", 200);
        assertThat(all.path("total").asInt()).isEqualTo(5);
        JsonNode d = find(all.path("slides"), "d");
        assertThat(d.path("status").asText()).isEqualTo("in_progress");
        assertThat(d.path("tiles_received").asInt()).isEqualTo(5);
        assertThat(d.path("tile_count").asInt()).isEqualTo(20);
        assertThat(statusOf(all, "a")).isEqualTo("complete");
        assertThat(statusOf(all, "blank")).isEqualTo("failed");
        JsonNode a = find(all.path("slides"), "a");
        assertThat(a.path("tile_count").asInt()).isEqualTo(12);
        assertThat(a.path("tiles_received").asInt()).isEqualTo(12);
        assertThat(a.path("model_id").asText()).isEqualTo(model);
        assertThat(a.path("latency_ms").asLong()).isPositive();
        // The job's ABMIL has no card: its id is its file name and checksum, its classes numbered.
        assertThat(a.path("head_id").asText()).matches("abmil-tiny-[0-9a-f]{12}");
        assertThat(a.path("predicted_label").asText()).matches("class [01]");
        JsonNode blank = find(all.path("slides"), "blank");
        assertThat(blank.path("error_code").asText()).isEqualTo("NO_TISSUE");

        JsonNode failed = getJson("/api/slides?status=failed", 200);
        assertThat(failed.path("total").asInt()).isEqualTo(1);
        JsonNode page = getJson("/api/slides?status=complete&page_size=2&page=2", 200);
        assertThat(page.path("total").asInt()).isEqualTo(3);
        assertThat(page.path("slides")).hasSize(1);

        JsonNode detail = getJson("/api/slides/a", 200);
        assertThat(detail.path("results")).hasSize(1);
        assertThat(detail.path("results").get(0).path("tissue_composition")).isNotEmpty();
        JsonNode attention = detail.path("results").get(0).path("tile_attention");
        assertThat(attention).hasSize(12);
        double sum = 0;
        for (JsonNode value : attention) {
            sum += value.asDouble();
        }
        // Softmax attention over the slide's tiles sums to 1.
        assertThat(sum).isCloseTo(1.0, within(1e-4));
        assertThat(detail.path("uri").asText()).isEqualTo(slideA.toString());
        JsonNode tiles = getJson("/api/slides/a/tiles?model_id=" + model, 200).path("tiles");
        assertThat(tiles).hasSize(12);
        assertThat(tiles.get(0).path("extent_px").asLong()).isEqualTo(256);
        JsonNode blankDetail = getJson("/api/slides/blank", 200);
        assertThat(blankDetail.path("errors").get(0).path("code").asText()).isEqualTo("NO_TISSUE");
        assertError(get("/api/slides/nope"), 404, "SLIDE_NOT_FOUND");
    }

    @Test
    void findsAStoredTileFirstWhenSearchingByThatTile() throws Exception {
        JsonNode tile = getJson("/api/slides/a/tiles?model_id=" + model, 200).path("tiles").get(3);
        long x = tile.path("x").asLong();
        long y = tile.path("y").asLong();
        JsonNode result = getJson(tileSearch(x, y) + "&k=5", 200);
        JsonNode hits = result.path("hits");
        assertThat(hits).hasSize(5);
        JsonNode first = hits.get(0);
        assertThat(first.path("slide_id").asText()).isEqualTo("a");
        assertThat(first.path("region").path("x").asLong()).isEqualTo(x);
        assertThat(first.path("region").path("y").asLong()).isEqualTo(y);
        assertThat(first.path("region").path("width").asLong()).isEqualTo(256);
        assertThat(first.path("score").asDouble()).isCloseTo(1.0, within(1e-3));
        assertThat(result.path("by_slide").get(0).path("slide_id").asText()).isEqualTo("a");
        // Filters: only slide b's tiles.
        JsonNode inB = getJson(tileSearch(x, y) + "&in_slide=b&k=3", 200);
        assertThat(inB.path("hits"))
                .allSatisfy(h -> assertThat(h.path("slide_id").asText()).isEqualTo("b"));
        // The hit's picture is the region of the slide.
        HttpResponse<byte[]> image = getBytes(first.path("image").asText());
        assertThat(image.statusCode()).isEqualTo(200);
        BufferedImage picture = ImageIO.read(new ByteArrayInputStream(image.body()));
        assertThat(picture.getWidth()).isEqualTo(256);
    }

    @Test
    void anUploadedTileIsEmbeddedAsTheJobEmbedsItAndFindsItself() throws Exception {
        JsonNode tile = getJson("/api/slides/a/tiles?model_id=" + model, 200).path("tiles").get(5);
        long x = tile.path("x").asLong();
        long y = tile.path("y").asLong();
        BufferedImage region;
        try (OpenSlide slide = OpenSlide.open(slideA)) {
            region =
                    slide.readRegionImage(
                            x,
                            y,
                            tile.path("level").asInt(),
                            tile.path("read_px").asInt(),
                            tile.path("read_px").asInt());
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(region, "png", png);
        HttpResponse<String> response =
                post("/api/search/image?model_id=" + model + "&k=3", png.toByteArray());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode first = JSON.readTree(response.body()).path("hits").get(0);
        assertThat(first.path("slide_id").asText()).isEqualTo("a");
        assertThat(first.path("region").path("x").asLong()).isEqualTo(x);
        assertThat(first.path("region").path("y").asLong()).isEqualTo(y);
        assertThat(first.path("score").asDouble()).isGreaterThan(0.9999);
    }

    @Test
    void findsASlideFirstWhenSearchingByThatSlide() throws Exception {
        JsonNode hits =
                getJson("/api/search/slide?slide_id=b&model_id=" + model + "&k=3", 200)
                        .path("hits");
        assertThat(hits).hasSize(3);
        assertThat(hits.get(0).path("slide_id").asText()).isEqualTo("b");
        assertThat(hits.get(0).path("score").asDouble()).isCloseTo(1.0, within(1e-3));
    }

    @Test
    void servesTheDeepZoomPyramidThumbnailAndRegions() throws Exception {
        HttpResponse<String> dzi = get("/api/slides/a/dzi");
        assertThat(dzi.statusCode()).isEqualTo(200);
        assertThat(dzi.body()).contains("Width=\"2048\"").contains("TileSize=\"254\"");
        // Level 11 is full size (2048 px): tile 1_0 spans 253..508 plus overlap.
        BufferedImage tile = image("/api/slides/a/dzi_files/11/1_0.jpeg");
        assertThat(tile.getWidth()).isEqualTo(256);
        assertThat(tile.getHeight()).isEqualTo(255);
        BufferedImage top = image("/api/slides/a/dzi_files/0/0_0.jpeg");
        assertThat(top.getWidth()).isEqualTo(1);
        BufferedImage thumb = image("/api/slides/a/thumbnail?size=300");
        assertThat(Math.max(thumb.getWidth(), thumb.getHeight())).isEqualTo(300);
        assertError(get("/api/slides/a/dzi_files/11/99_99.jpeg"), 404, "NO_SUCH_TILE");
    }

    @Test
    void reportsErrorsByCodeAndDayAndThroughputOverTime() throws Exception {
        JsonNode errors = getJson("/api/errors", 200);
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        assertThat(errors.path("by_code_and_day"))
                .anySatisfy(
                        e -> {
                            assertThat(e.path("day").asText()).isEqualTo(today);
                            assertThat(e.path("code").asText()).isEqualTo("NO_TISSUE");
                            assertThat(e.path("count").asInt()).isEqualTo(1);
                        });
        JsonNode stats = getJson("/api/stats?bucket=day", 200);
        JsonNode day = stats.path("series").get(0);
        assertThat(day.path("slides").asInt()).isEqualTo(3);
        assertThat(day.path("tiles").asInt()).isEqualTo(36);
        assertThat(day.path("latency_ms_p50").asLong()).isPositive();
        JsonNode models = getJson("/api/models", 200);
        assertThat(models.path("models").get(0).path("model_id").asText()).isEqualTo(model);
    }

    @Test
    void refusesWhatItShouldWithAStatusAndAJsonErrorNeverAStackTrace() throws Exception {
        // Without model_id the current model's vectors are searched: here the service's own.
        HttpResponse<String> noModel = get("/api/search/tile?slide_id=a&x=0&y=0");
        assertError(noModel, 404, "TILE_NOT_FOUND");
        assertThat(noModel.body()).contains("for model " + model);
        assertError(
                get("/api/search/tile?slide_id=a&x=0&y=0&model_id=no-such-model"),
                404,
                "UNKNOWN_MODEL");
        assertError(
                get("/api/search/tile?slide_id=a&x=0&y=0&model_id=" + model + "&k=1000"),
                400,
                "INVALID_REQUEST");
        assertError(
                get("/api/search/tile?slide_id=a&x=1&y=1&model_id=" + model),
                404,
                "TILE_NOT_FOUND");
        assertError(
                get("/api/search/tile?slide_id=a&x=abc&y=1&model_id=" + model),
                400,
                "INVALID_REQUEST");
        assertError(
                get(
                        "/api/search/tile?slide_id=a&x=256&y=256&model_id="
                                + model
                                + "&tissue_class=NOPE"),
                400,
                "INVALID_REQUEST");
        assertError(
                post(
                        "/api/search/image?model_id=" + model,
                        "not an image".getBytes(StandardCharsets.UTF_8)),
                415,
                "NOT_AN_IMAGE");
        assertError(
                post("/api/search/image?model_id=" + model, new byte[0]), 400, "INVALID_REQUEST");
        assertError(
                post("/api/search/image?model_id=" + model, new byte[21 * 1024 * 1024]),
                413,
                "IMAGE_TOO_LARGE");
        assertError(
                post("/api/search/image?model_id=other-model", new byte[] {1}),
                400,
                "MODEL_MISMATCH");
        assertError(
                get("/api/search/slide?slide_id=nope&model_id=" + model), 404, "SLIDE_NOT_FOUND");
        // Slide c was embedded by the job but lies outside the service's allowed roots.
        assertError(get("/api/slides/c/dzi"), 403, "ACCESS_DENIED");
        assertError(get("/api/slides?status=weird"), 400, "INVALID_REQUEST");
        assertError(get("/api/slides/a/region?x=-1&y=0&extent=10"), 400, "INVALID_REQUEST");
        assertError(get("/api/no-such-route"), 404, "NO_SUCH_ROUTE");
    }

    /**
     * What an attacker tried on a hospital network (issue 24): each gets a 4xx JSON answer that
     * does not repeat what was sent, and nothing is read that would not fit in memory.
     */
    @Test
    void hostileRequestsGetA4xxJsonAnswerAndNoHugeRead() throws Exception {
        // A region far larger than the slide: refused before anything is read.
        assertError(
                get("/api/slides/a/region?x=0&y=0&extent=32768&size=16"), 400, "INVALID_REQUEST");
        assertError(
                get("/api/slides/a/region?x=0&y=0&extent=1048576&size=16"), 400, "INVALID_REQUEST");
        assertError(get("/api/slides/a/region?x=99999999&y=0&extent=256"), 400, "INVALID_REQUEST");
        // Deep Zoom tile names that overflow, or are not names at all.
        assertError(
                get("/api/slides/a/dzi_files/12/9223372036854775807_9223372036854775807.jpeg"),
                400,
                "INVALID_REQUEST");
        assertError(get("/api/slides/a/dzi_files/11/0_0_7.jpeg"), 400, "INVALID_REQUEST");
        assertError(get("/api/slides/a/dzi_files/11/999999999_0.jpeg"), 404, "NO_SUCH_TILE");
        // Methods the API does not take.
        for (String method : List.of("PUT", "DELETE", "PATCH")) {
            assertError(send(method, "/api/slides"), 405, "METHOD_NOT_ALLOWED");
        }
        // Ids: a control character, a long one (refused without echo), one the web server refuses.
        assertError(get("/api/slides/a%00b/dzi"), 400, "INVALID_REQUEST");
        HttpResponse<String> longId = get("/api/slides/" + "x".repeat(7 * 1024) + "/dzi");
        assertError(longId, 400, "INVALID_REQUEST");
        assertThat(longId.body().length()).isLessThan(500);
        HttpResponse<String> hugeId = get("/api/slides/" + "x".repeat(100 * 1024) + "/dzi");
        assertThat(hugeId.statusCode()).isIn(414, 431);
        assertThat(hugeId.headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/json");
        assertThat(JSON.readTree(hugeId.body()).path("error").path("code").asText())
                .isEqualTo("REQUEST_TOO_LARGE");
        assertThat(hugeId.body().length()).isLessThan(500);
        // An upload whose header declares more pixels than allowed: refused before decoding.
        BufferedImage big = new BufferedImage(4097, 4097, BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(big, "png", png);
        assertError(
                post("/api/search/image?model_id=" + model, png.toByteArray()),
                413,
                "IMAGE_TOO_LARGE");
    }

    @Test
    void everyRequestForASlideIsAuditedWithoutItsCredentials() throws Exception {
        HttpResponse<String> secret =
                HTTP.send(
                        HttpRequest.newBuilder(uri("/api/slides/a/dzi?token=hunter2"))
                                .header("Authorization", "Bearer hunter2")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(secret.statusCode()).isEqualTo(200);
        assertError(get("/api/slides/nope/dzi"), 404, "SLIDE_NOT_FOUND");

        List<JsonNode> lines = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(auditLog)) {
            lines.add(JSON.readTree(line));
        }
        assertThat(lines)
                .anySatisfy(
                        l -> {
                            assertThat(l.path("route").asText()).isEqualTo("/api/slides/{id}/dzi");
                            assertThat(l.path("slide_id").asText()).isEqualTo("a");
                            assertThat(l.path("status").asInt()).isEqualTo(200);
                            assertThat(l.path("user").asText()).isEqualTo("anonymous");
                            assertThat(l.path("client").asText()).isEqualTo("127.0.0.1");
                            assertThat(l.path("method").asText()).isEqualTo("GET");
                            assertThat(l.path("time").asText()).isNotBlank();
                        })
                .anySatisfy(
                        l -> {
                            assertThat(l.path("slide_id").asText()).isEqualTo("nope");
                            assertThat(l.path("status").asInt()).isEqualTo(404);
                        });
        assertThat(Files.readString(auditLog)).doesNotContain("hunter2");
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri(path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    // ---- The dashboard queries in Apache Spark, an engine this project did not write ----

    @Test
    void sparkReadsTheTablesThroughTheJobsCatalogAndTheDashboardQueriesMatchTheTables()
            throws Exception {
        var iceberg = stack.config().iceberg();
        Map<String, List<JsonNode>> spark = sparkQueries(iceberg);

        // What the job wrote, read back through Iceberg's own Java API.
        List<org.apache.iceberg.data.Record> slides =
                io.slidestream.sink.IcebergTableReader.rows(iceberg, iceberg.slidesTable());
        List<org.apache.iceberg.data.Record> tiles =
                io.slidestream.sink.IcebergTableReader.rows(
                        iceberg, iceberg.tilesTable(), "slide_id", "model_id", "predicted_class");
        String today = LocalDate.now(ZoneOffset.UTC).toString();

        assertThat(spark.get("slides_per_day")).hasSize(1);
        JsonNode day = spark.get("slides_per_day").get(0);
        assertThat(day.path("day").asText()).isEqualTo(today);
        assertThat(day.path("slides").asInt()).isEqualTo(slides.size()).isEqualTo(3);
        assertThat(day.path("partial").asInt()).isZero();
        assertThat(day.path("tiles").asInt()).isEqualTo(36);

        assertThat(spark.get("tiles_per_slide")).hasSize(3);
        assertThat(spark.get("tiles_per_slide"))
                .allSatisfy(
                        r ->
                                assertThat(r.path("tiles_stored").asInt())
                                        .as(r.toString())
                                        .isEqualTo(r.path("tile_count").asInt())
                                        .isEqualTo(12));

        Map<String, Integer> classes = new java.util.TreeMap<>();
        tiles.forEach(
                t ->
                        classes.merge(
                                t.getField("model_id") + "/" + t.getField("predicted_class"),
                                1,
                                Integer::sum));
        Map<String, Integer> sparkClasses = new java.util.TreeMap<>();
        spark.get("class_distribution")
                .forEach(
                        r ->
                                sparkClasses.put(
                                        r.path("model_id").asText()
                                                + "/"
                                                + r.path("predicted_class").asInt(),
                                        r.path("tiles").asInt()));
        assertThat(sparkClasses).isEqualTo(classes);
        // The run's 36 tiles and the 5 of the slide in progress.
        assertThat(sparkClasses.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(41);

        assertThat(spark.get("errors_per_day")).hasSize(1);
        JsonNode errors = spark.get("errors_per_day").get(0);
        assertThat(errors.path("day").asText()).isEqualTo(today);
        assertThat(errors.path("code").asText()).isEqualTo("NO_TISSUE");
        assertThat(errors.path("slides").asInt()).isEqualTo(1);

        Map<String, Long> latency = new java.util.TreeMap<>();
        for (var r : slides) {
            latency.put(
                    (String) r.getField("slide_id"),
                    java.time.Duration.between(
                                    (java.time.OffsetDateTime) r.getField("scanned_at"),
                                    (java.time.OffsetDateTime) r.getField("completed_at"))
                            .toMillis());
        }
        Map<String, Long> sparkLatency = new java.util.TreeMap<>();
        spark.get("latency")
                .forEach(
                        r ->
                                sparkLatency.put(
                                        r.path("slide_id").asText(),
                                        r.path("latency_ms").asLong()));
        assertThat(sparkLatency).isEqualTo(latency);

        Map<String, Integer> predictions = new java.util.TreeMap<>();
        slides.forEach(
                r ->
                        predictions.merge(
                                r.getField("head_id") + "/" + r.getField("predicted_label"),
                                1,
                                Integer::sum));
        Map<String, Integer> sparkPredictions = new java.util.TreeMap<>();
        spark.get("predictions_per_head")
                .forEach(
                        r ->
                                sparkPredictions.put(
                                        r.path("head_id").asText()
                                                + "/"
                                                + r.path("predicted_label").asText(),
                                        r.path("slides").asInt()));
        assertThat(sparkPredictions).isEqualTo(predictions);
        assertThat(sparkPredictions.keySet()).allMatch(k -> k.matches("abmil-tiny-.*/class [01]"));
        System.out.println("ServeITCase: Spark's dashboard queries: " + spark);
    }

    /**
     * Runs docs/dashboard-queries.sql in Apache Spark (testbed/spark, its own JVM) against the
     * job's JDBC catalog, registered in Spark under the job's catalog name.
     */
    private static Map<String, List<JsonNode>> sparkQueries(
            io.slidestream.sink.IcebergConfig iceberg) throws Exception {
        Path log = Files.createTempFile("spark", ".log");
        Map<String, List<JsonNode>> results = new java.util.LinkedHashMap<>();
        io.slidestream.local.cluster.SparkQueries.dashboards(iceberg, log)
                .forEach((name, answer) -> results.put(name, answer.rows()));
        assertThat(results)
                .as(Files.readString(log))
                .containsOnlyKeys(
                        "slides_per_day",
                        "tiles_per_slide",
                        "class_distribution",
                        "errors_per_day",
                        "latency",
                        "predictions_per_head");
        return results;
    }

    // ---- The dashboard, in a real browser (Debian's headless Chromium through WebDriver) ----

    @Test
    void theDashboardLoadsAndTheFeedListsTheRunsSlides() throws Exception {
        WebDriver browser = browser();
        open(browser, "/");
        wait(browser)
                .until(d -> d.findElements(By.cssSelector("#feed-table tbody tr")).size() == 5);
        assertThat(browser.findElement(By.cssSelector("tr[data-slide-id='a'] .status")).getText())
                .isEqualTo("complete");
        assertThat(browser.findElement(By.cssSelector("tr[data-slide-id='blank']")).getText())
                .contains("NO_TISSUE");
        assertThat(browser.findElement(By.id("model")).getText()).contains(model);
        screenshot(browser, "feed");
    }

    @Test
    void theViewerShowsTheSlideWithItsOverlaysAndLegend() throws Exception {
        WebDriver browser = browser();
        open(browser, "/#viewer/a");
        wait(browser)
                .until(d -> "a".equals(d.findElement(By.id("osd")).getAttribute("data-ready")));
        assertThat(browser.findElements(By.cssSelector("#layer-grid rect.tile"))).hasSize(12);
        assertThat(browser.findElements(By.cssSelector("#layer-classes rect.class-cell")))
                .hasSize(12);
        assertThat(browser.findElements(By.cssSelector("#layer-tissue rect"))).hasSize(12);
        // The attention heatmap covers every tile (the slide head's attention of each).
        List<WebElement> attention =
                browser.findElements(By.cssSelector("#layer-attention rect.attention-cell"));
        assertThat(attention).hasSize(12);
        // Scaled min to max: the least attended tile pale, the most attended full red.
        List<Double> opacity =
                attention.stream()
                        .map(r -> Double.parseDouble(r.getAttribute("fill-opacity")))
                        .toList();
        assertThat(opacity.stream().mapToDouble(Double::doubleValue).min().orElseThrow())
                .isCloseTo(0.05, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(opacity.stream().mapToDouble(Double::doubleValue).max().orElseThrow())
                .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(browser.findElement(By.id("attention-note")).getText())
                .matches("attention (nearly uniform: )?\\S+ to \\S+");
        // The tile grid's swatch is visible: a white outline on a dark square.
        WebElement gridSwatch =
                browser.findElement(
                        By.xpath("//div[@id='legend']/div[contains(., 'tile grid')]/span"));
        assertThat(gridSwatch.getCssValue("background-color")).isEqualTo("rgba(51, 51, 51, 1)");
        assertThat(browser.findElements(By.cssSelector("#legend .legend-item[data-class]")))
                .hasSize(EndToEndStack.TISSUE_CLASSES.size());
        // The prediction by name, and which head made it.
        assertThat(browser.findElement(By.id("prediction")).getText())
                .matches("class [01] \\(p = [01]\\.\\d\\d\\)");
        assertThat(browser.findElement(By.cssSelector("#viewer-head option")).getText())
                .startsWith("abmil-tiny-");
        // The Deep Zoom tiles of the slide were drawn by OpenSeadragon.
        wait(browser)
                .until(
                        d ->
                                (Boolean)
                                        ((JavascriptExecutor) d)
                                                .executeScript(
                                                        "return dashboard.viewer.world.getItemAt(0)"
                                                                + ".getFullyLoaded()"));
        WebElement classes = browser.findElement(By.cssSelector("input[data-overlay='classes']"));
        classes.click();
        assertThat(browser.findElement(By.id("layer-classes")).getCssValue("display"))
                .isEqualTo("none");
        classes.click();
        assertThat(browser.findElement(By.id("layer-classes")).getCssValue("display"))
                .isNotEqualTo("none");
        screenshot(browser, "viewer");
    }

    @Test
    void clickingATileListsTheSimilarTilesWithTheClickedTileFirst() throws Exception {
        WebDriver browser = browser();
        open(browser, "/#viewer/a");
        wait(browser)
                .until(d -> "a".equals(d.findElement(By.id("osd")).getAttribute("data-ready")));
        JsonNode tile = getJson("/api/slides/a/tiles?model_id=" + model, 200).path("tiles").get(7);
        long x = tile.path("x").asLong();
        long y = tile.path("y").asLong();
        long centre = tile.path("extent_px").asLong() / 2;
        // Where the tile's centre is on the screen, from the viewer's own coordinate mapping.
        @SuppressWarnings("unchecked")
        List<Number> at =
                (List<Number>)
                        ((JavascriptExecutor) browser)
                                .executeScript(
                                        "const v = dashboard.viewer.viewport;"
                                                + " const p = v.imageToViewerElementCoordinates("
                                                + "new OpenSeadragon.Point(arguments[0],"
                                                + " arguments[1]));"
                                                + " return [p.x, p.y];",
                                        x + centre,
                                        y + centre);
        WebElement osd = browser.findElement(By.id("osd"));
        new Actions(browser)
                .moveToElement(
                        osd,
                        (int) Math.round(at.get(0).doubleValue() - osd.getSize().getWidth() / 2.0),
                        (int) Math.round(at.get(1).doubleValue() - osd.getSize().getHeight() / 2.0))
                .click()
                .perform();
        wait(browser).until(d -> d.findElements(By.cssSelector("#similar .hit")).size() >= 3);
        WebElement first = browser.findElement(By.cssSelector("#similar .hit"));
        assertThat(first.getAttribute("data-slide-id")).isEqualTo("a");
        assertThat(first.getAttribute("data-x")).isEqualTo(Long.toString(x));
        assertThat(first.getAttribute("data-y")).isEqualTo(Long.toString(y));
        assertThat(first.getText()).contains("score 1.0000");
        wait(browser)
                .until(
                        d ->
                                (Boolean)
                                        ((JavascriptExecutor) d)
                                                .executeScript(
                                                        "const i = document.querySelector("
                                                                + "'#similar .hit img');"
                                                                + " return i.complete &&"
                                                                + " i.naturalWidth > 0;"));
        screenshot(browser, "similar-tiles");
        // A hit from another slide opens that slide at that place.
        WebElement other =
                browser.findElements(By.cssSelector("#similar .hit")).stream()
                        .filter(h -> !"a".equals(h.getAttribute("data-slide-id")))
                        .findFirst()
                        .orElseThrow();
        String otherSlide = other.getAttribute("data-slide-id");
        String otherX = other.getAttribute("data-x");
        other.click();
        wait(browser)
                .until(d -> d.findElement(By.id("viewer-title")).getText().startsWith(otherSlide));
        assertThat(browser.getCurrentUrl()).contains("#viewer/" + otherSlide + "@" + otherX);
    }

    @Test
    void theErrorPageShowsTheBadSlidesCodeAndTheThroughputPageItsCharts() throws Exception {
        WebDriver browser = browser();
        open(browser, "/#errors");
        wait(browser)
                .until(
                        d ->
                                !d.findElements(
                                                By.cssSelector(
                                                        "#errors-recent"
                                                                + " tr[data-slide-id='blank']"))
                                        .isEmpty());
        assertThat(
                        browser.findElement(
                                        By.cssSelector("#errors-recent tr[data-slide-id='blank']"))
                                .getAttribute("data-code"))
                .isEqualTo("NO_TISSUE");
        assertThat(browser.findElement(By.cssSelector("#errors-by-day tbody")).getText())
                .contains("NO_TISSUE");
        screenshot(browser, "errors");
        open(browser, "/#throughput");
        wait(browser)
                .until(d -> !d.findElements(By.cssSelector("#chart-throughput rect")).isEmpty());
        assertThat(browser.findElements(By.cssSelector("#chart-latency rect.bar-p50")))
                .isNotEmpty();
        // Slides and tiles each on an axis of their own, with ticks.
        assertThat(
                        browser.findElements(
                                By.cssSelector("#chart-throughput g.axis-slides text.tick")))
                .hasSize(5);
        assertThat(browser.findElements(By.cssSelector("#chart-throughput g.axis-tiles text.tick")))
                .hasSize(5);
        screenshot(browser, "throughput");

        // The viewer without a slide says what to do; a slide it may not open says why, in words.
        open(browser, "/#viewer");
        wait(browser).until(d -> d.findElement(By.id("viewer-empty")).isDisplayed());
        assertThat(browser.findElement(By.id("viewer-empty")).getText())
                .contains("No slide chosen");
        open(browser, "/#viewer/c");
        wait(browser)
                .until(d -> "c".equals(d.findElement(By.id("osd")).getAttribute("data-failed")));
        assertThat(browser.findElement(By.id("viewer-error")).getText())
                .startsWith("ACCESS_DENIED: ")
                .doesNotContain("[object Object]");
        screenshot(browser, "viewer-failed");
    }

    private static WebDriver driver;

    private static WebDriver browser() {
        if (driver == null) {
            driver = HeadlessChrome.start();
        }
        return driver;
    }

    private static WebDriverWait wait(WebDriver browser) {
        return new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    /** Loads {@code path} afresh (not as a hash change of the page already shown). */
    private static void open(WebDriver browser, String path) {
        browser.get("about:blank");
        browser.get(page(path));
    }

    private static String page(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    /** Saves a screenshot as a test artifact under target/screenshots. */
    private static void screenshot(WebDriver browser, String name) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "screenshots"));
        Files.write(
                dir.resolve(name + ".png"),
                ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    /** A tile search for slide a's tile at (x, y) with the run's model. */
    private static String tileSearch(long x, long y) {
        return "/api/search/tile?slide_id=a&x=" + x + "&y=" + y + "&model_id=" + model;
    }

    private static String statusOf(JsonNode list, String slideId) {
        return find(list.path("slides"), slideId).path("status").asText();
    }

    private static JsonNode find(JsonNode slides, String slideId) {
        for (JsonNode s : slides) {
            if (s.path("slide_id").asText().equals(slideId)) {
                return s;
            }
        }
        throw new AssertionError("no slide " + slideId + " in " + slides);
    }

    private static void assertError(HttpResponse<String> response, int status, String code)
            throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/json");
        JsonNode error = JSON.readTree(response.body()).path("error");
        assertThat(error.path("code").asText()).as(response.body()).isEqualTo(code);
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(response.body()).doesNotContain("\tat ").doesNotContain("Exception:");
    }

    private static JsonNode getJson(String path, int status) throws Exception {
        HttpResponse<String> response = get(path);
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(status);
        return JSON.readTree(response.body());
    }

    private static BufferedImage image(String path) throws Exception {
        HttpResponse<byte[]> response = getBytes(path);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse(""))
                .isEqualTo("image/jpeg");
        return ImageIO.read(new ByteArrayInputStream(response.body()));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<byte[]> getBytes(String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/octet-stream")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
