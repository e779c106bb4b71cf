package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.testing.InMemorySlide;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TilePlanOverlayTest {

    /** 4096 x 2048 at 20x: one block of 4 x 2 tiles at tile column 2, row 2. */
    private static TilePlan plan() {
        InMemorySlide slide =
                InMemorySlide.builder(4096, 2048)
                        .tissue(512, 512, 1024, 512, InMemorySlide.EOSIN)
                        .noise(0)
                        .build();
        return new TilePlanner(TilingConfig.defaults()).plan(slide, 0.5);
    }

    @Test
    void scalesTheLongerEdgeToTheRequestedSize() {
        BufferedImage image = TilePlanOverlay.render(plan(), 640);

        assertThat(image.getWidth()).isEqualTo(640);
        assertThat(image.getHeight()).isEqualTo(320);
    }

    @Test
    void tintsTissueGreenOutlinesKeptTilesAndLeavesGlassAlone() {
        TilePlan plan = plan();
        // mask 64 x 32 drawn at 640 x 320: 10 output px per mask px, 40 per tile
        BufferedImage image = TilePlanOverlay.render(plan, 640);

        int glass = InMemorySlide.GLASS;
        int tissueInside = image.getRGB(100, 100) & 0xFFFFFF; // inside tile (2, 2)
        int outline = image.getRGB(80, 90) & 0xFFFFFF; // left edge of tile (2, 2)
        int background = image.getRGB(400, 250) & 0xFFFFFF;

        assertThat(plan.tissueTileCount()).isEqualTo(8);
        assertThat(background).isEqualTo(glass);
        assertThat(outline).isEqualTo(TilePlanOverlay.TILE_OUTLINE.getRGB() & 0xFFFFFF);
        int eosin = InMemorySlide.EOSIN;
        int expectedGreen =
                Math.round(((eosin >>> 8) & 0xFF) + (0xC8 - ((eosin >>> 8) & 0xFF)) * 0.35f);
        assertThat((tissueInside >>> 8) & 0xFF).isEqualTo(expectedGreen);
    }

    @Test
    void writesAPngThatReadsBack(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sub/overlay.png");

        TilePlanOverlay.write(plan(), out);

        BufferedImage read = ImageIO.read(out.toFile());
        assertThat(read.getWidth()).isEqualTo(TilePlanOverlay.DEFAULT_MAX_EDGE);
        assertThat(read.getHeight()).isEqualTo(TilePlanOverlay.DEFAULT_MAX_EDGE / 2);
    }

    @Test
    void failsWithInvalidRequestWhenTheFileCannotBeWritten(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");

        assertThatThrownBy(() -> TilePlanOverlay.write(plan(), file.resolve("overlay.png")))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                            assertThat(e.getMessage()).contains("overlay.png");
                        });
    }
}
