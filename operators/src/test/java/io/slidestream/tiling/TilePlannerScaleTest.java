package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.testing.InMemorySlide;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Plans a resection-sized slide (40,000 x 40,000 px at 40x) and prints how long it takes. The
 * assertions are exact counts and how much was read; the time is printed, not asserted, because the
 * build machines are shared.
 */
class TilePlannerScaleTest {

    private static final int SIDE = 40_000;

    /** Three tissue pieces aligned to the 512 px grid: 24x32 + 28x36 + 8x16 = 1,904 tiles. */
    private static InMemorySlide resection(double... downsamples) {
        return InMemorySlide.builder(SIDE, SIDE)
                .downsamples(downsamples)
                .tissue(8 * 512, 16 * 512, 24 * 512, 32 * 512, InMemorySlide.EOSIN)
                .tissue(40 * 512, 24 * 512, 28 * 512, 36 * 512, InMemorySlide.EOSIN)
                .tissue(16 * 512, 56 * 512, 8 * 512, 16 * 512, InMemorySlide.HAEMATOXYLIN)
                .seed(2026)
                .build();
    }

    private static long medianMillis(Runnable run, int times) {
        long[] ms = new long[times];
        for (int i = 0; i < times; i++) {
            long t0 = System.nanoTime();
            run.run();
            ms[i] = (System.nanoTime() - t0) / 1_000_000;
        }
        Arrays.sort(ms);
        return ms[times / 2];
    }

    @Test
    void plansAResectionFromTheMaskLevelAlone() {
        TilePlanner planner = new TilePlanner(TilingConfig.defaults());
        InMemorySlide withMaskLevel = resection(1, 4, 16, 64);
        InMemorySlide withoutMaskLevel = resection(1, 4, 16);

        TilePlan plan = planner.plan(withMaskLevel, 0.25);
        long readForOnePlan = withMaskLevel.pixelsRead();
        TilePlan fromFinerLevel = planner.plan(withoutMaskLevel, 0.25);

        assertThat(plan.readPx()).isEqualTo(512);
        assertThat(plan.gridTileCount()).isEqualTo(78L * 78);
        assertThat(plan.tissueTileCount()).isEqualTo(1904);
        assertThat(readForOnePlan).isEqualTo(625L * 625);
        assertThat(fromFinerLevel.tissueTileCount()).isEqualTo(1904);
        assertThat(fromFinerLevel.tileXs()).containsExactly(plan.tileXs());
        assertThat(fromFinerLevel.tileYs()).containsExactly(plan.tileYs());

        long direct = medianMillis(() -> planner.plan(withMaskLevel, 0.25), 7);
        long downscaled = medianMillis(() -> planner.plan(withoutMaskLevel, 0.25), 5);
        TissueMask mask = plan.mask();
        long maskOnly = medianMillis(() -> planner.plan(plan.geometry(), mask), 7);
        System.out.printf(
                "TilePlanner on a %,d x %,d slide (%d grid tiles, %d kept): %d ms with a 1/64"
                        + " level (625 x 625 px read), %d ms from the 1/16 level (2,500 x 2,500 px"
                        + " read and averaged), %d ms for the tile selection alone%n",
                SIDE,
                SIDE,
                plan.gridTileCount(),
                plan.tissueTileCount(),
                direct,
                downscaled,
                maskOnly);
    }
}
