package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code slidestream tiles} on real and synthetic slides that plan. */
class TilesCommandTest {

    /** Level-0 corners of the 12 tissue tiles of {@link SyntheticSlides} at 20x, row-major. */
    static final List<List<Long>> TILES_20X =
            List.of(
                    List.of(256L, 512L),
                    List.of(512L, 512L),
                    List.of(768L, 512L),
                    List.of(256L, 768L),
                    List.of(512L, 768L),
                    List.of(768L, 768L),
                    List.of(2048L, 1536L),
                    List.of(2304L, 1536L),
                    List.of(2048L, 1792L),
                    List.of(2304L, 1792L),
                    List.of(2048L, 2048L),
                    List.of(2304L, 2048L));

    @TempDir static Path slides;
    static Path genericTiff;
    static Path aperio;
    static Path aperio40x;

    @TempDir Path dir;

    @BeforeAll
    static void writeSyntheticSlides() {
        genericTiff =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.GENERIC_TIFF),
                        slides.resolve("generic.tiff"));
        aperio =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.APERIO), slides.resolve("aperio.svs"));
        aperio40x =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.25, Style.APERIO),
                        slides.resolve("aperio-40x.svs"));
    }

    private static List<List<Long>> corners(JsonNode json, long divisor) {
        List<List<Long>> out = new ArrayList<>();
        for (JsonNode t : json.get("tiles")) {
            assertThat(t.get("x").asLong() % divisor).isZero();
            assertThat(t.get("y").asLong() % divisor).isZero();
            out.add(List.of(t.get("x").asLong() / divisor, t.get("y").asLong() / divisor));
        }
        return out;
    }

    @Test
    void printsThePlanOfCmu1AsJson() {
        CliRun run = CliRun.of("tiles", TestSlides.cmu1SmallRegion().toString(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).isEmpty();
        JsonNode json = run.json();
        assertThat(json.get("vendor").asText()).isEqualTo("aperio");
        assertThat(json.get("dimensions").get(0).asLong()).isEqualTo(TestSlides.CMU1_WIDTH);
        assertThat(json.get("dimensions").get(1).asLong()).isEqualTo(TestSlides.CMU1_HEIGHT);
        assertThat(json.get("mpp").asDouble()).isCloseTo(TestSlides.CMU1_MPP, within(1e-6));
        assertThat(json.get("mpp_source").asText()).isEqualTo("openslide_mpp");
        assertThat(json.get("read_level").asInt()).isZero();
        assertThat(json.get("read_px").asInt()).isEqualTo(256);
        assertThat(json.get("tile_px").asInt()).isEqualTo(256);
        // 8 x 11 tiles of 256 px fit in 2220 x 2967
        assertThat(json.get("grid_tile_count").asInt()).isEqualTo(88);
        JsonNode tiles = json.get("tiles");
        assertThat(tiles.size()).isPositive().isLessThan(88);
        assertThat(json.get("tissue_tile_count").asInt()).isEqualTo(tiles.size());
        for (JsonNode t : tiles) {
            long x = t.get("x").asLong();
            long y = t.get("y").asLong();
            assertThat(x % 256).isZero();
            assertThat(y % 256).isZero();
            assertThat(x + 256).isLessThanOrEqualTo(TestSlides.CMU1_WIDTH);
            assertThat(y + 256).isLessThanOrEqualTo(TestSlides.CMU1_HEIGHT);
            assertThat(t.get("tissue").asDouble()).isBetween(0.25, 1.0);
        }
        assertThat(json.get("warnings").size()).isZero();
    }

    @Test
    void plansExactlyTheTissueTilesOfASyntheticGenericTiff() {
        CliRun run = CliRun.of("tiles", genericTiff.toString(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.get("vendor").asText()).isEqualTo("generic-tiff");
        assertThat(json.get("dimensions").get(0).asLong()).isEqualTo(3072);
        assertThat(json.get("dimensions").get(1).asLong()).isEqualTo(2560);
        assertThat(json.get("mpp").asDouble()).isCloseTo(0.5, within(1e-6));
        assertThat(json.get("mpp_source").asText()).isEqualTo("tiff_resolution");
        assertThat(json.get("read_level").asInt()).isZero();
        assertThat(json.get("read_px").asInt()).isEqualTo(256);
        assertThat(json.get("grid_tile_count").asInt()).isEqualTo(120);
        assertThat(json.get("tissue_tile_count").asInt()).isEqualTo(12);
        assertThat(corners(json, 1)).isEqualTo(TILES_20X);
        // inner tiles are all tissue; the mask's median blur only rounds off the block corners
        for (JsonNode t : json.get("tiles")) {
            assertThat(t.get("tissue").asDouble()).isBetween(0.6, 1.0);
        }
        assertThat(json.get("tiles").get(1).get("tissue").asDouble()).isEqualTo(1.0);
    }

    @Test
    void takesTheMppOfAnAperioStyleSlideFromOpenSlide() {
        CliRun run = CliRun.of("tiles", aperio.toString(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.get("vendor").asText()).isEqualTo("aperio");
        assertThat(json.get("mpp_source").asText()).isEqualTo("openslide_mpp");
        assertThat(json.get("tissue_tile_count").asInt()).isEqualTo(12);
        assertThat(corners(json, 1)).isEqualTo(TILES_20X);
    }

    @Test
    void reads512PxAtLevelZeroOfA40xSlide() {
        CliRun run = CliRun.of("tiles", aperio40x.toString(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.get("mpp").asDouble()).isCloseTo(0.25, within(1e-6));
        // the synthetic pyramid steps by 4: level 1 (1.0 um/px) is too coarse for 0.5 um/px
        assertThat(json.get("read_level").asInt()).isZero();
        assertThat(json.get("read_px").asInt()).isEqualTo(512);
        assertThat(json.get("tile_px").asInt()).isEqualTo(256);
        assertThat(corners(json, 2)).isEqualTo(TILES_20X);
    }

    @Test
    void honoursTargetMppAndTilePx() {
        CliRun run =
                CliRun.of(
                        "tiles",
                        genericTiff.toString(),
                        "--json",
                        "--target-mpp",
                        "1.0",
                        "--tile-px",
                        "128");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        // 128 px at 1 um/px = 256 px of level 0: the same grid, read from level 0 as 256 px
        assertThat(json.get("tile_px").asInt()).isEqualTo(128);
        assertThat(json.get("read_px").asInt()).isEqualTo(256);
        assertThat(corners(json, 1)).isEqualTo(TILES_20X);
    }

    @Test
    void writesAnOverlayPngOfThumbnailSize() throws Exception {
        Path png = dir.resolve("out/cmu1.png");

        CliRun run =
                CliRun.of(
                        "tiles",
                        TestSlides.cmu1SmallRegion().toString(),
                        "--overlay",
                        png.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("overlay: " + png).contains("of 88 grid tiles");
        BufferedImage image = ImageIO.read(png.toFile());
        // the longer edge (height) is drawn at 1024 px, the width keeps the slide's aspect
        assertThat(image.getHeight()).isEqualTo(1024);
        double aspect = (double) TestSlides.CMU1_WIDTH / TestSlides.CMU1_HEIGHT;
        assertThat(image.getWidth()).isCloseTo((int) Math.round(1024 * aspect), within(20));
    }

    @Test
    void plansTheFluorescenceNdpiAtLevelOneAndWarnsThatItIsDark() {
        CliRun run =
                CliRun.of(
                        "tiles",
                        TestSlides.slideFixture("hamamatsu-fluorescence.ndpi").toString(),
                        "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.get("vendor").asText()).isEqualTo("hamamatsu");
        // 0.2282 um/px: level 1 (0.456) is the coarsest not coarser than 0.5; 256 * 0.5 / 0.456
        assertThat(json.get("read_level").asInt()).isEqualTo(1);
        assertThat(json.get("read_px").asInt()).isEqualTo(280);
        assertThat(json.get("tissue_tile_count").asInt()).isPositive();
        assertThat(json.get("warnings").toString()).contains("fluorescence");
    }

    @Test
    void plansASlideWithoutResolutionWhenGivenADefaultMpp() {
        String boxes = TestSlides.slideFixture("boxes.tiff").toString();

        CliRun defaultTiles = CliRun.of("tiles", boxes, "--json", "--default-mpp", "0.5");
        // Every tile (threshold 0): the plan must not depend on boxes.tiff's pixels, which
        // OpenSlide 3.4.1 reads through libtiff's RGBA path, and Debian's libtiff 4.5.0-6+deb12u4
        // returns its edge tiles (all of level 3) transparent.
        CliRun smallTiles =
                CliRun.of(
                        "tiles",
                        boxes,
                        "--json",
                        "--default-mpp",
                        "0.5",
                        "--tile-px",
                        "64",
                        "--tissue-threshold",
                        "0");

        // 300 x 250 px at 0.5 um/px is smaller than one 256 px tile: planned, but empty
        JsonNode json = defaultTiles.json();
        assertThat(json.get("vendor").asText()).isEqualTo("generic-tiff");
        assertThat(json.get("mpp").asDouble()).isEqualTo(0.5);
        assertThat(json.get("mpp_source").asText()).isEqualTo("configured_default");
        assertThat(json.get("grid_tile_count").asInt()).isZero();
        assertThat(defaultTiles.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(defaultTiles.err()).startsWith("NO_TISSUE: ").contains("smaller than one tile");
        // 64 px tiles: a 4 x 3 grid
        assertThat(smallTiles.exitCode()).as(smallTiles.err()).isZero();
        JsonNode small = smallTiles.json();
        assertThat(small.get("grid_tile_count").asInt()).isEqualTo(12);
        assertThat(small.get("tissue_tile_count").asInt())
                .isEqualTo(12)
                .isEqualTo(small.get("tiles").size());
    }
}
