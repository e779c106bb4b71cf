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

    /**
     * The fastest of {@code times} runs in microseconds: on a shared machine the least disturbed
     * run is the best estimate of the cost itself.
     */
    private static long bestMicros(Runnable run, int times) {
        long[] us = new long[times];
        for (int i = 0; i < times; i++) {
            long t0 = System.nanoTime();
            run.run();
            us[i] = (System.nanoTime() - t0) / 1_000;
        }
        Arrays.sort(us);
        return us[0];
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

        long direct = bestMicros(() -> planner.plan(withMaskLevel, 0.25), 9);
        long downscaled = bestMicros(() -> planner.plan(withoutMaskLevel, 0.25), 3);
        int[] level = new int[625 * 625];
        long paintOnly = bestMicros(() -> withMaskLevel.readRegion(level, 0, 0, 3, 625, 625), 15);
        TissueMask mask = plan.mask();
        long selection = bestMicros(() -> planner.plan(plan.geometry(), mask), 15);
        System.out.printf(
                "TilePlanner on a %,d x %,d slide (%d grid tiles, %d kept), best of several runs: %.1f ms with a 1/64"
                        + " level (625 x 625 px read; painting them in memory takes %.1f ms),"
                        + " %.1f ms from the 1/16 level (2,500 x 2,500 px read and averaged),"
                        + " %.3f ms for the tile selection on the mask%n",
                SIDE,
                SIDE,
                plan.gridTileCount(),
                plan.tissueTileCount(),
                direct / 1000.0,
                paintOnly / 1000.0,
                downscaled / 1000.0,
                selection / 1000.0);
    }
}
