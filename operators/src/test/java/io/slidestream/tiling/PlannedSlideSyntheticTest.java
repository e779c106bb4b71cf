package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.slide.MppSource;
import io.slidestream.slide.SlideOpener;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.SyntheticSlides;
import java.nio.file.Path;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plans slides written by {@link SyntheticSlideWriter} through the real OpenSlide library, end to
 * end: metadata and MPP source, read level and size, tissue mask, exact kept tiles.
 */
class PlannedSlideSyntheticTest {

    /** Level-0 corners of the 12 tissue tiles of {@link SyntheticSlides} at 20x, row-major. */
    static final long[][] TILES_20X = {
        {256, 512},
        {512, 512},
        {768, 512},
        {256, 768},
        {512, 768},
        {768, 768},
        {2048, 1536},
        {2304, 1536},
        {2048, 1792},
        {2304, 1792},
        {2048, 2048},
        {2304, 2048}
    };

    @TempDir Path dir;

    private static PlannedSlide plan(Path file) {
        return PlannedSlide.plan(
                SlideOpener.unrestricted(),
                file.toString(),
                TilingConfig.defaults(),
                OptionalDouble.empty());
    }

    private static long[][] corners(TilePlan plan, int scale) {
        long[][] out = new long[plan.tissueTileCount()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new long[] {plan.tileX(i) / scale, plan.tileY(i) / scale};
            assertThat(plan.tileX(i) % scale).isZero();
            assertThat(plan.tileY(i) % scale).isZero();
        }
        return out;
    }

    @Test
    void plansExactlyTheTissueBlocksOfAGenericTiffWithMppFromTheTiffResolution() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.GENERIC_TIFF),
                        dir.resolve("generic.tiff"));

        PlannedSlide planned = plan(file);

        assertThat(planned.metadata().vendor()).isEqualTo("generic-tiff");
        assertThat(planned.metadata().mppSource()).isEqualTo(MppSource.TIFF_RESOLUTION);
        assertThat(planned.metadata().mpp()).isCloseTo(0.5, within(1e-6));
        TilePlan plan = planned.plan();
        assertThat(plan.outcome()).isEqualTo(TilePlan.Outcome.TILED);
        assertThat(plan.readLevel()).isZero();
        assertThat(plan.readPx()).isEqualTo(256);
        assertThat(plan.gridTileCount()).isEqualTo(120);
        assertThat(plan.tissueTileCount()).isEqualTo(SyntheticSlides.TISSUE_TILES);
        assertThat(corners(plan, 1)).isDeepEqualTo(TILES_20X);
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void plansTheSameTilesOfAnAperioSlideWithMppFromOpenSlide() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.APERIO), dir.resolve("aperio.svs"));

        PlannedSlide planned = plan(file);

        assertThat(planned.metadata().vendor()).isEqualTo("aperio");
        assertThat(planned.metadata().mppSource()).isEqualTo(MppSource.OPENSLIDE_MPP);
        assertThat(planned.plan().tissueTileCount()).isEqualTo(SyntheticSlides.TISSUE_TILES);
        assertThat(corners(planned.plan(), 1)).isDeepEqualTo(TILES_20X);
    }

    @Test
    void readsA40xSlideAt512PxFromLevelZeroForTheSameFieldOfView() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.25, Style.APERIO), dir.resolve("40x.svs"));

        TilePlan plan = plan(file).plan();

        // The writer's pyramid steps by 4, so level 1 (1.0 um/px) is too coarse for 0.5 um/px.
        assertThat(plan.readLevel()).isZero();
        assertThat(plan.readPx()).isEqualTo(512);
        assertThat(plan.span0()).isEqualTo(512);
        assertThat(plan.gridTileCount()).isEqualTo(120);
        assertThat(corners(plan, 2)).isDeepEqualTo(TILES_20X);
    }

    @Test
    void readsAn80xSlideAt256PxFromTheLevelWithDownsample4() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.125, Style.GENERIC_TIFF),
                        dir.resolve("80x.tiff"));

        TilePlan plan = plan(file).plan();

        assertThat(plan.readLevel()).isEqualTo(1);
        assertThat(plan.geometry().readDownsample()).isCloseTo(4.0, within(1e-9));
        assertThat(plan.readPx()).isEqualTo(256);
        assertThat(plan.span0()).isEqualTo(1024);
        assertThat(corners(plan, 4)).isDeepEqualTo(TILES_20X);
    }

    @Test
    void givesAnEmptyNoTissuePlanForABackgroundOnlySlide() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(1024, 768)
                                .style(Style.GENERIC_TIFF)
                                .noTissue(),
                        dir.resolve("glass.tiff"));

        TilePlan plan = plan(file).plan();

        assertThat(plan.outcome()).isEqualTo(TilePlan.Outcome.NO_TISSUE);
        assertThat(plan.gridTileCount()).isEqualTo(12);
        assertThat(plan.tissueTileCount()).isZero();
    }
}
