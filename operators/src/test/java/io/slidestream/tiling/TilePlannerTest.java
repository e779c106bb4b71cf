package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.testing.InMemorySlide;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Exact tile counts on painted slides whose tissue is aligned to the tile grid. With the default
 * mask (1/64) a 256 px tile at 20x and a 512 px tile at 40x both cover 4 x 4 or 8 x 8 mask pixels;
 * the median filter only rounds off the corner pixels of a block, which leaves every corner tile
 * well above the 0.25 threshold.
 */
class TilePlannerTest {

    private static final Instant SCANNED_AT = Instant.parse("2026-11-23T08:00:00Z");
    private static final TilePlanner DEFAULT_PLANNER = new TilePlanner(TilingConfig.defaults());

    /** Level-0 x, y of every tile in grid cells [c0, c1] x [r0, r1], row-major. */
    private static List<long[]> cells(int c0, int c1, int r0, int r1, long step) {
        List<long[]> out = new ArrayList<>();
        for (int r = r0; r <= r1; r++) {
            for (int c = c0; c <= c1; c++) {
                out.add(new long[] {c * step, r * step});
            }
        }
        return out;
    }

    private static List<long[]> tiles(TilePlan plan) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            out.add(new long[] {plan.tileX(i), plan.tileY(i)});
        }
        return out;
    }

    private static List<long[]> rowMajor(List<long[]> tiles) {
        List<long[]> sorted = new ArrayList<>(tiles);
        sorted.sort((a, b) -> a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[0], b[0]));
        return sorted;
    }

    /** 20x (0.5 um/px), 16 x 12 tiles of 256 px, three blocks of 12, 30 and 6 tiles. */
    private static InMemorySlide twentyX() {
        return InMemorySlide.builder(16 * 256, 12 * 256)
                .tissue(1 * 256, 1 * 256, 4 * 256, 3 * 256, InMemorySlide.EOSIN)
                .tissue(8 * 256, 5 * 256, 6 * 256, 5 * 256, InMemorySlide.HAEMATOXYLIN)
                .tissue(2 * 256, 8 * 256, 2 * 256, 3 * 256, InMemorySlide.EOSIN)
                .seed(20)
                .build();
    }

    @Test
    void keepsExactlyTheTilesOfTissueBlocksInRowMajorOrder() {
        TilePlan plan = DEFAULT_PLANNER.plan(twentyX(), 0.5);

        List<long[]> expected = new ArrayList<>();
        expected.addAll(cells(1, 4, 1, 3, 256));
        expected.addAll(cells(8, 13, 5, 9, 256));
        expected.addAll(cells(2, 3, 8, 10, 256));
        assertThat(plan.outcome()).isEqualTo(TilePlan.Outcome.TILED);
        assertThat(plan.gridTileCount()).isEqualTo(16 * 12);
        assertThat(plan.tissueTileCount()).isEqualTo(48);
        assertThat(tiles(plan)).containsExactlyElementsOf(rowMajor(expected));
        assertThat(plan.readLevel()).isZero();
        assertThat(plan.readPx()).isEqualTo(256);
        assertThat(plan.tilePx()).isEqualTo(256);
        assertThat(plan.step0()).isEqualTo(256);
        assertThat(plan.upsampled()).isFalse();
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void givesInnerTilesFullTissueAndCornerTilesWhatTheMedianLeaves() {
        TilePlan plan = DEFAULT_PLANNER.plan(twentyX(), 0.5);

        float inner = -1;
        float corner = -1;
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            if (plan.tileX(i) == 2 * 256 && plan.tileY(i) == 2 * 256) {
                inner = plan.tileTissue(i);
            }
            if (plan.tileX(i) == 256 && plan.tileY(i) == 256) {
                corner = plan.tileTissue(i);
            }
        }
        assertThat(inner).isEqualTo(1f);
        assertThat(corner).isEqualTo(11f / 16); // 5 of the 16 mask pixels rounded off
        assertThat(plan.maxTissueFraction()).isEqualTo(1.0);
    }

    @Test
    void readsLevelZeroAt512PxOrTheDownsampleTwoLevelAt256PxForA40xSlide() {
        InMemorySlide.Builder layout =
                InMemorySlide.builder(10 * 512, 8 * 512)
                        .tissue(1 * 512, 1 * 512, 3 * 512, 2 * 512, InMemorySlide.EOSIN)
                        .tissue(5 * 512, 4 * 512, 4 * 512, 3 * 512, InMemorySlide.HAEMATOXYLIN)
                        .seed(40);

        TilePlan aperio = DEFAULT_PLANNER.plan(layout.downsamples(1, 4, 16).build(), 0.25);
        TilePlan withHalf = DEFAULT_PLANNER.plan(layout.downsamples(1, 2, 8, 32).build(), 0.25);

        List<long[]> expected = new ArrayList<>();
        expected.addAll(cells(1, 3, 1, 2, 512));
        expected.addAll(cells(5, 8, 4, 6, 512));
        assertThat(aperio.readLevel()).isZero();
        assertThat(aperio.readPx()).isEqualTo(512);
        assertThat(withHalf.readLevel()).isEqualTo(1);
        assertThat(withHalf.readPx()).isEqualTo(256);
        assertThat(aperio.mask().sourceLevel()).isEqualTo(2); // ds 16, downscaled to 1/64
        assertThat(withHalf.mask().sourceLevel()).isEqualTo(3); // ds 32, downscaled to 1/64
        for (TilePlan plan : List.of(aperio, withHalf)) {
            assertThat(plan.gridTileCount()).isEqualTo(80);
            assertThat(plan.tissueTileCount()).isEqualTo(18);
            assertThat(plan.step0()).isEqualTo(512);
            assertThat(tiles(plan)).containsExactlyElementsOf(rowMajor(expected));
        }
    }

    @Test
    void keepsTilesAtExactlyTheThresholdAndDropsThemJustBelow() {
        // 512 px tiles at 20x cover 8 x 8 mask pixels; tissue from the left, top and bottom slide
        // edges to 128 px into the fourth tile column: those tiles are exactly a quarter tissue
        InMemorySlide slide =
                InMemorySlide.builder(8 * 512, 4 * 512)
                        .tissue(0, 0, 3 * 512 + 128, 4 * 512, InMemorySlide.EOSIN)
                        .seed(25)
                        .build();
        TilingConfig at = TilingConfig.builder().set(TilingOptions.TILE_PX, 512).build();
        TilingConfig above = at.toBuilder().set(TilingOptions.TISSUE_THRESHOLD, 0.2501).build();

        TilePlan kept = new TilePlanner(at).plan(slide, 0.5);
        TilePlan dropped = new TilePlanner(above).plan(slide, 0.5);

        assertThat(kept.tissueTileCount()).isEqualTo(16);
        assertThat(tiles(kept)).containsExactlyElementsOf(cells(0, 3, 0, 3, 512));
        assertThat(kept.tileTissue(3)).isEqualTo(0.25f);
        assertThat(dropped.tissueTileCount()).isEqualTo(12);
        assertThat(tiles(dropped)).containsExactlyElementsOf(cells(0, 2, 0, 3, 512));
    }

    @Test
    void leavesOutTilesThatWouldCrossTheSlideEdge() {
        // tissue everywhere; 200 and 255 px are left over at the right and bottom edges
        InMemorySlide slide =
                InMemorySlide.builder(16 * 256 + 200, 12 * 256 + 255)
                        .tissue(0, 0, 16 * 256 + 200, 12 * 256 + 255, InMemorySlide.EOSIN)
                        .seed(3)
                        .build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 0.5);

        assertThat(plan.gridColumns()).isEqualTo(16);
        assertThat(plan.gridRows()).isEqualTo(12);
        assertThat(plan.tissueTileCount()).isEqualTo(16 * 12);
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            assertThat(plan.tileX(i) + plan.span0()).isLessThanOrEqualTo(16 * 256 + 200);
            assertThat(plan.tileY(i) + plan.span0()).isLessThanOrEqualTo(12 * 256 + 255);
        }
    }

    @Test
    void overlapsTilesWhenTheStrideIsSmallerThanTheTile() {
        // tissue in x [1024, 2048) over the full height; tiles every 128 px, 256 px wide: the 7
        // tiles inside plus the two that are half inside, in each of the 15 rows
        InMemorySlide slide =
                InMemorySlide.builder(4096, 2048)
                        .tissue(1024, 0, 1024, 2048, InMemorySlide.HAEMATOXYLIN)
                        .seed(11)
                        .build();
        TilePlanner planner =
                new TilePlanner(TilingConfig.builder().set(TilingOptions.STRIDE_PX, 128).build());

        TilePlan plan = planner.plan(slide, 0.5);

        assertThat(plan.step0()).isEqualTo(128);
        assertThat(plan.span0()).isEqualTo(256);
        assertThat(plan.gridColumns()).isEqualTo(31);
        assertThat(plan.gridRows()).isEqualTo(15);
        assertThat(plan.tissueTileCount()).isEqualTo(9 * 15);
        assertThat(tiles(plan)).containsExactlyElementsOf(cells(7, 15, 0, 14, 128));
        assertThat(plan.tileTissue(0)).isEqualTo(0.5f);
        assertThat(plan.tileTissue(1)).isEqualTo(1f);
    }

    @Test
    void givesTheNoTissueOutcomeForBlankGlass() {
        InMemorySlide slide = InMemorySlide.builder(4096, 3072).seed(5).build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 0.5);

        assertThat(plan.outcome()).isEqualTo(TilePlan.Outcome.NO_TISSUE);
        assertThat(plan.tissueTileCount()).isZero();
        assertThat(plan.gridTileCount()).isEqualTo(192);
        assertThat(plan.toTileTasks("s", "file:/s.tiff", SCANNED_AT)).isEmpty();
        SlideStreamException e = plan.noTissueError();
        assertThat(e.code()).isEqualTo(ErrorCode.NO_TISSUE);
        assertThat(e.getMessage()).contains("0.250").contains("tiling.tissue-threshold");
        assertThatThrownBy(plan::requireTissue).isInstanceOf(SlideStreamException.class);
    }

    @Test
    void givesTheNoTissueOutcomeWhenNoTileFitsInTheSlide() {
        InMemorySlide slide =
                InMemorySlide.builder(200, 3072)
                        .tissue(0, 0, 200, 3072, InMemorySlide.EOSIN)
                        .build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 0.5);

        assertThat(plan.outcome()).isEqualTo(TilePlan.Outcome.NO_TISSUE);
        assertThat(plan.gridTileCount()).isZero();
        assertThat(plan.noTissueError().getMessage()).contains("smaller than one tile");
    }

    @Test
    void refusesANoTissueErrorForAPlanWithTiles() {
        TilePlan plan = DEFAULT_PLANNER.plan(twentyX(), 0.5);

        assertThat(plan.requireTissue()).isSameAs(plan);
        assertThatThrownBy(plan::noTissueError).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void warnsAndUpsamplesWhenTheSlideIsCoarserThanTheTarget() {
        // 10x (1 um/px): a 256 px tile at 0.5 um/px is 128 px of level 0
        InMemorySlide slide =
                InMemorySlide.builder(2048, 2048)
                        .tissue(0, 0, 1024, 2048, InMemorySlide.EOSIN)
                        .seed(10)
                        .build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 1.0);

        assertThat(plan.upsampled()).isTrue();
        assertThat(plan.readPx()).isEqualTo(128);
        assertThat(plan.warnings()).singleElement().asString().contains("upsampled");
        assertThat(plan.tissueTileCount()).isEqualTo(8 * 16);
    }

    @Test
    void warnsThatADarkFluorescenceSlideIsNotWhatTheBrightfieldDetectorIsMadeFor() {
        // DAPI-like: near-black background with channel noise, blue nuclei in one block
        InMemorySlide slide =
                InMemorySlide.builder(2048, 2048)
                        .background(0x040408)
                        .noise(4)
                        .tissue(512, 512, 512, 512, 0x2040C0)
                        .build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 0.5);

        assertThat(plan.mask().medianBrightness()).isLessThan(TilePlan.DARK_BACKGROUND_BRIGHTNESS);
        assertThat(plan.warnings())
                .singleElement()
                .asString()
                .contains("fluorescence", "brightfield", "of 64 grid tiles");
    }

    @Test
    void doesNotWarnAboutASlideDenselyCoveredWithDarkHaematoxylin() {
        InMemorySlide slide =
                InMemorySlide.builder(2048, 2048)
                        .tissue(0, 0, 2048, 2048, InMemorySlide.HAEMATOXYLIN)
                        .build();

        TilePlan plan = DEFAULT_PLANNER.plan(slide, 0.5);

        assertThat(plan.mask().medianBrightness())
                .isGreaterThanOrEqualTo(TilePlan.DARK_BACKGROUND_BRIGHTNESS);
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void turnsKeptTilesIntoTileTasks() {
        TilePlan plan = DEFAULT_PLANNER.plan(twentyX(), 0.5);

        List<TileTask> tasks = plan.toTileTasks("slide-7", "file:/slides/7.svs", SCANNED_AT);

        assertThat(tasks).hasSize(48);
        TileTask first = tasks.get(0);
        assertThat(first.slideId).isEqualTo("slide-7");
        assertThat(first.uri).isEqualTo("file:/slides/7.svs");
        assertThat(first.x).isEqualTo(256);
        assertThat(first.y).isEqualTo(256);
        assertThat(first.level).isZero();
        assertThat(first.readPx).isEqualTo(256);
        assertThat(first.tilePx).isEqualTo(256);
        assertThat(first.mpp).isEqualTo(0.5);
        assertThat(first.tissue).isEqualTo(plan.tileTissue(0));
        assertThat(first.tileIndex).isZero();
        assertThat(first.tileCount).isEqualTo(48);
        assertThat(first.scannedAtMillis).isEqualTo(SCANNED_AT.toEpochMilli());
        assertThat(tasks.get(47).tileIndex).isEqualTo(47);
        assertThat(tasks.get(47))
                .isEqualTo(
                        plan.tileTask(
                                47, "slide-7", "file:/slides/7.svs", SCANNED_AT.toEpochMilli()));
    }

    @Test
    void rejectsAnUnknownResolution() {
        assertThatThrownBy(() -> DEFAULT_PLANNER.plan(twentyX(), Double.NaN))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_RESOLUTION));
    }
}
