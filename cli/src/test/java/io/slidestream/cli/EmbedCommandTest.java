package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.inference.GpfmTinyFixture;
import io.slidestream.slide.SlideOpener;
import io.slidestream.testing.TestSlides;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import io.slidestream.tiling.TilingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code slidestream embed} end to end with the real gpfm-tiny model, OpenSlide and
 * CMU-1-Small-Region: JSON lines, parity with the PyTorch reference, and the typed errors.
 */
class EmbedCommandTest {
    private static final double MIN_COSINE = 0.9999;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path fixture;
    private static Path model;
    private static JsonNode reference;

    @TempDir Path tmp;

    @BeforeAll
    static void loadFixture() throws IOException {
        fixture = TestSlides.gpfmTiny();
        model = fixture.resolve("gpfm-tiny.onnx");
        reference = JSON.readTree(fixture.resolve("reference.json").toFile());
    }

    @Test
    void embedsPngTilesLikeThePyTorchReferenceWithTileHeadProbabilities() throws IOException {
        List<String> args = new ArrayList<>(List.of("embed"));
        List<JsonNode> refTiles = new ArrayList<>();
        for (JsonNode t : reference.get("tiles")) {
            args.add(fixture.resolve("tiles").resolve(t.get("file").asText()).toString());
            refTiles.add(t);
        }
        Path out = tmp.resolve("tiles.jsonl");
        args.addAll(
                List.of(
                        "--model", model.toString(),
                        "--tile-head", fixture.resolve("tissue-head-tiny.onnx").toString(),
                        "--batch-size", "4",
                        "--progress", "lines",
                        "--out", out.toString()));

        Run run = Run.of(args.toArray(String[]::new));

        assertThat(run.exit).as(run.err).isZero();
        assertThat(run.out).isEmpty();
        assertThat(run.err).contains("embedded 9 tile images: 9 tiles");
        List<JsonNode> lines = readLines(Files.readString(out));
        assertThat(lines).hasSize(refTiles.size());
        double minCosine = 1;
        float maxHeadDiff = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = lines.get(i);
            JsonNode ref = refTiles.get(i);
            assertThat(Path.of(line.get("file").asText()).getFileName().toString())
                    .isEqualTo(ref.get("file").asText());
            assertThat(line.get("width").asInt()).isEqualTo(ref.get("size").asInt());
            assertThat(line.get("model_id").asText()).isEqualTo("gpfm-tiny-bd11a46612e0");
            assertThat(line.has("x")).isFalse();
            float[] embedding = GpfmTinyFixture.floats(line.get("embedding"));
            assertThat(embedding).hasSize(256);
            double cosine =
                    GpfmTinyFixture.cosine(embedding, GpfmTinyFixture.floats(ref.get("embedding")));
            assertThat(cosine).as(ref.get("file").asText()).isGreaterThanOrEqualTo(MIN_COSINE);
            minCosine = Math.min(minCosine, cosine);
            maxHeadDiff =
                    Math.max(
                            maxHeadDiff,
                            GpfmTinyFixture.maxAbsDiff(
                                    GpfmTinyFixture.floats(line.get("head_probabilities")),
                                    GpfmTinyFixture.floats(ref.get("tissue_probabilities"))));
        }
        System.out.printf(
                "embed PNG tiles: min cosine %.9f, head max abs diff %.3g%n",
                minCosine, maxHeadDiff);
        assertThat(maxHeadDiff).isLessThanOrEqualTo(GpfmTinyFixture.TOLERANCE);
    }

    @Test
    void embedsEveryTissueTileOfTheSlidePlanAsOneJsonLine() throws IOException {
        Path slide = TestSlides.cmu1SmallRegion();
        TilePlan plan =
                PlannedSlide.plan(
                                SlideOpener.unrestricted(),
                                slide.toString(),
                                TilingConfig.builder().build(),
                                OptionalDouble.empty())
                        .plan();

        Run run =
                Run.of(
                        "embed",
                        slide.toString(),
                        "--model",
                        model.toString(),
                        "--batch-size",
                        "8",
                        "--readers",
                        "2",
                        "--progress",
                        "lines");

        assertThat(run.exit).as(run.err).isZero();
        List<JsonNode> lines = readLines(run.out);
        assertThat(lines).hasSize(plan.tissueTileCount()).hasSizeGreaterThan(10);
        Map<String, JsonNode> refByCorner = new HashMap<>();
        for (JsonNode t : reference.get("tiles")) {
            if (t.get("size").asInt() == 256) {
                refByCorner.put(t.get("x").asLong() + "," + t.get("y").asLong(), t);
            }
        }
        int compared = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = lines.get(i);
            assertThat(line.get("slide_id").asText()).isEqualTo("CMU-1-Small-Region");
            assertThat(line.get("x").asLong()).isEqualTo(plan.tileX(i));
            assertThat(line.get("y").asLong()).isEqualTo(plan.tileY(i));
            assertThat(line.get("level").asInt()).isZero();
            assertThat(line.get("tile_px").asInt()).isEqualTo(256);
            assertThat(line.get("mpp").asDouble()).isEqualTo(0.5);
            assertThat(line.get("tissue").asDouble())
                    .isBetween(plan.tissueThreshold(), 1.0)
                    .isCloseTo(plan.tileTissue(i), offset(0.001));
            assertThat(line.get("model_id").asText()).isEqualTo("gpfm-tiny-bd11a46612e0");
            assertThat(line.get("embedding").size()).isEqualTo(256);
            assertThat(line.has("head_probabilities")).isFalse();
            // The fixture's 256 px tiles were cut from this slide at level 0: where the plan
            // holds the same tile, the embedding must be the reference one.
            JsonNode ref = refByCorner.get(plan.tileX(i) + "," + plan.tileY(i));
            if (ref != null) {
                assertThat(
                                GpfmTinyFixture.cosine(
                                        GpfmTinyFixture.floats(line.get("embedding")),
                                        GpfmTinyFixture.floats(ref.get("embedding"))))
                        .isGreaterThanOrEqualTo(MIN_COSINE);
                compared++;
            }
        }
        assertThat(compared).isGreaterThanOrEqualTo(4);
        assertThat(run.err).contains("embedded CMU-1-Small-Region: " + lines.size() + " tiles");
    }

    @Test
    void takesTheSlideIdFromTheCommandLine() throws IOException {
        Run run =
                Run.of(
                        "embed",
                        TestSlides.cmu1SmallRegion().toString(),
                        "--model",
                        model.toString(),
                        "--slide-id",
                        "case-42",
                        "--tissue-threshold",
                        "0.9",
                        "--progress",
                        "none");

        assertThat(run.exit).as(run.err).isZero();
        List<JsonNode> lines = readLines(run.out);
        assertThat(lines).isNotEmpty();
        assertThat(lines)
                .allSatisfy(l -> assertThat(l.get("slide_id").asText()).isEqualTo("case-42"));
        assertThat(lines)
                .allSatisfy(
                        l -> assertThat(l.get("tissue").asDouble()).isGreaterThanOrEqualTo(0.9));
    }

    @Test
    void refusesAMissingModelFile() {
        Run run = Run.of("embed", tile(), "--model", tmp.resolve("absent.onnx").toString());

        run.assertFailedWith("MODEL_INVALID");
        assertThat(run.err).contains("absent.onnx").contains("does not exist");
    }

    @Test
    void refusesATextFileAsModel() throws IOException {
        Path text = Files.writeString(tmp.resolve("model.onnx"), "not a model\n");

        Run run = Run.of("embed", tile(), "--model", text.toString());

        run.assertFailedWith("MODEL_INVALID");
        assertThat(run.err).contains("model.onnx").contains("ONNX");
    }

    @Test
    void refusesAModelThatDoesNotTakeTilesNamingBothShapes() {
        Path head = fixture.resolve("tissue-head-tiny.onnx");

        Run run = Run.of("embed", tile(), "--model", head.toString());

        run.assertFailedWith("MODEL_INVALID");
        assertThat(run.err)
                .contains("expected one input [N, C, H, W]")
                .contains("found input embedding [batch, 256]")
                .contains("probabilities [batch, 9]");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "missing.svs, SLIDE_NOT_FOUND",
        "unopenable.tiff, CORRUPT_SLIDE",
        "unreadable.svs, CORRUPT_SLIDE",
        "boxes.tiff, UNKNOWN_RESOLUTION",
        "small.svs, NO_TISSUE"
    })
    void failsABadSlideWithItsCodeAndWritesNoOutput(String file, String code) {
        Path slide = TestSlides.slideFixtures().resolve(file);
        Path out = tmp.resolve("out.jsonl");

        Run run =
                Run.of(
                        "embed",
                        slide.toString(),
                        "--model",
                        model.toString(),
                        "--out",
                        out.toString());

        run.assertFailedWith(code);
        assertThat(run.err).contains(file);
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("out.jsonl.part")).doesNotExist();
    }

    @Test
    void refusesTwoSlidesAtOnce() {
        Path slide = TestSlides.cmu1SmallRegion();

        Run run = Run.of("embed", slide.toString(), slide.toString(), "--model", model.toString());

        run.assertFailedWith("INVALID_REQUEST");
    }

    @Test
    void benchEmbedPrintsBothThroughputsTheirRatioAndMemory() {
        Run run =
                Run.of(
                        "bench",
                        "embed",
                        "--model",
                        model.toString(),
                        "--batch-size",
                        "2",
                        "--batches",
                        "2",
                        "--rounds",
                        "1");

        assertThat(run.exit).as(run.err).isZero();
        assertThat(run.out)
                .contains("(a) bare OrtSession.run loop:")
                .contains("(b) micro-batcher,   4 callers:")
                .contains("ratio b/a:")
                .contains("engines loaded with two slots: 1");
    }

    private static String tile() {
        return fixture.resolve("tiles").resolve(GpfmTinyFixture.TILE_03).toString();
    }

    private static List<JsonNode> readLines(String text) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    /** One command-line run with captured standard output and error. */
    private static final class Run {
        final int exit;
        final String out;
        final String err;

        private Run(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }

        static Run of(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit =
                    SlideStreamCli.execute(
                            new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Run(exit, out.toString(), err.toString());
        }

        void assertFailedWith(String code) {
            assertThat(exit).as(err).isEqualTo(SlideStreamCli.EXIT_FAILURE);
            assertThat(err).startsWith(code + ": ").doesNotContain("\tat ");
            assertThat(out).isEmpty();
        }
    }
}
