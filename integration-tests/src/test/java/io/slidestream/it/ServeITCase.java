package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.synthetic.SyntheticSlideWriter;
import io.slidestream.slide.synthetic.SyntheticSlideWriter.Style;
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
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slidestream serve} on the stores of a real run: the job embeds three slides (two under the
 * service's allowed root, one elsewhere) and fails a fourth (no tissue), then the service answers
 * every route of its API from those Milvus collections and Iceberg tables, and refuses what it
 * should with the right status and a JSON error, never a stack trace.
 */
class ServeITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir static Path dir;
    static EndToEndStack stack;
    static SlideStreamServer server;
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
        // The service may open slides under slides/ only: c was embedded but lies elsewhere.
        SlideStreamConfig serve = stack.config(Map.of("slides.allowed-roots", roots.toString()));
        server = SlideStreamServer.start(serve, "127.0.0.1", 0);
        model = server.modelId();
    }

    @AfterAll
    static void stop() {
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
        assertThat(all.path("total").asInt()).isEqualTo(4);
        assertThat(statusOf(all, "a")).isEqualTo("complete");
        assertThat(statusOf(all, "blank")).isEqualTo("failed");
        JsonNode a = find(all.path("slides"), "a");
        assertThat(a.path("tile_count").asInt()).isEqualTo(12);
        assertThat(a.path("tiles_received").asInt()).isEqualTo(12);
        assertThat(a.path("model_id").asText()).isEqualTo(model);
        assertThat(a.path("latency_ms").asLong()).isPositive();
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
        JsonNode result =
                getJson(
                        "/api/search/tile?slide_id=a&x="
                                + x
                                + "&y="
                                + y
                                + "&model_id="
                                + model
                                + "&k=5",
                        200);
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
        JsonNode inB =
                getJson(
                        "/api/search/tile?slide_id=a&x="
                                + x
                                + "&y="
                                + y
                                + "&model_id="
                                + model
                                + "&in_slide=b&k=3",
                        200);
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
        assertError(get("/api/search/tile?slide_id=a&x=0&y=0"), 400, "INVALID_REQUEST");
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
