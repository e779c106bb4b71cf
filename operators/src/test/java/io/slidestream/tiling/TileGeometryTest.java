package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TileGeometryTest {

    private static final TilingConfig DEFAULTS = TilingConfig.defaults();

    /** A pyramid of {@code width x height} with the given downsamples (level sizes rounded up). */
    private static TileGeometry geometry(
            long width, long height, double mpp0, TilingConfig config, double... downsamples) {
        long[] w = new long[downsamples.length];
        long[] h = new long[downsamples.length];
        for (int i = 0; i < downsamples.length; i++) {
            w[i] = (long) Math.ceil(width / downsamples[i]);
            h[i] = (long) Math.ceil(height / downsamples[i]);
        }
        return TileGeometry.of(w, h, downsamples, mpp0, config);
    }

    @Test
    void readsLevelZeroAt512PxForA40xSlideWithoutADownsampleTwoLevel() {
        TileGeometry g = geometry(5120, 4096, 0.25, DEFAULTS, 1, 4, 16);

        assertThat(g.readLevel()).isZero();
        assertThat(g.readPx()).isEqualTo(512);
        assertThat(g.span0()).isEqualTo(512);
        assertThat(g.step0()).isEqualTo(512);
        assertThat(g.columns()).isEqualTo(10);
        assertThat(g.rows()).isEqualTo(8);
        assertThat(g.upsampled()).isFalse();
    }

    @Test
    void readsTheDownsampleTwoLevelAt256PxForA40xSlide() {
        TileGeometry g = geometry(5120, 4096, 0.25, DEFAULTS, 1, 2, 8, 32);

        assertThat(g.readLevel()).isEqualTo(1);
        assertThat(g.readPx()).isEqualTo(256);
        assertThat(g.readLevelMpp()).isEqualTo(0.5);
        assertThat(g.span0()).isEqualTo(512);
        assertThat(g.step0()).isEqualTo(512);
        assertThat(g.columns()).isEqualTo(10);
        assertThat(g.rows()).isEqualTo(8);
    }

    @Test
    void readsA20xSlideAtLevelZeroWithTheTileSize() {
        TileGeometry g = geometry(4096, 3072, 0.5, DEFAULTS, 1, 4, 16, 64);

        assertThat(g.readLevel()).isZero();
        assertThat(g.readPx()).isEqualTo(256);
        assertThat(g.step0()).isEqualTo(256);
        assertThat(g.gridTileCount()).isEqualTo(16 * 12);
    }

    @Test
    void countsAResolutionWithinTheToleranceAsEqualToTheTarget() {
        // 0.2498 * 2 = 0.4996 and 0.252 * 2 = 0.504: both within 1 % of 0.5
        TileGeometry aperio = geometry(5120, 4096, 0.2498, DEFAULTS, 1, 2, 8);
        TileGeometry slightlyCoarse = geometry(5120, 4096, 0.252, DEFAULTS, 1, 2, 8);
        TileGeometry aperioLevelZero = geometry(5120, 4096, 0.2498, DEFAULTS, 1, 4, 16);

        assertThat(aperio.readLevel()).isEqualTo(1);
        assertThat(aperio.readPx()).isEqualTo(256);
        assertThat(slightlyCoarse.readLevel()).isEqualTo(1);
        assertThat(slightlyCoarse.readPx()).isEqualTo(256);
        assertThat(slightlyCoarse.upsampled()).isFalse();
        assertThat(aperioLevelZero.readPx()).isEqualTo(512);
    }

    @Test
    void scalesTheReadSizeWhenTheLevelIsFinerThanTheToleranceAllows() {
        // 0.2575 * 2 = 0.515 is coarser than 0.5 beyond 1 %: read level 0 and scale by 1.9417
        TileGeometry g = geometry(5120, 4096, 0.2575, DEFAULTS, 1, 2, 8);

        assertThat(g.readLevel()).isZero();
        assertThat(g.readPx()).isEqualTo(497); // round(256 * 0.5 / 0.2575) = round(497.09)
        assertThat(g.span0()).isEqualTo(497);
        assertThat(g.columns()).isEqualTo(10); // (5120 - 497) / 497 + 1
    }

    @Test
    void upsamplesAtLevelZeroWhenTheSlideIsCoarserThanTheTarget() {
        TileGeometry g = geometry(4096, 4096, 1.0, DEFAULTS, 1, 4);

        assertThat(g.readLevel()).isZero();
        assertThat(g.readPx()).isEqualTo(128);
        assertThat(g.span0()).isEqualTo(128);
        assertThat(g.upsampled()).isTrue();
        assertThat(g.columns()).isEqualTo(32);
    }

    @Test
    void stepsByTheStrideScaledToLevelZero() {
        TilingConfig halfStride = TilingConfig.builder().set(TilingOptions.STRIDE_PX, 128).build();

        TileGeometry level0 = geometry(5120, 4096, 0.25, halfStride, 1, 4, 16);
        TileGeometry level1 = geometry(5120, 4096, 0.25, halfStride, 1, 2, 8);

        assertThat(level0.readStepPx()).isEqualTo(256);
        assertThat(level0.step0()).isEqualTo(256);
        assertThat(level0.span0()).isEqualTo(512);
        assertThat(level0.columns()).isEqualTo(19); // (5120 - 512) / 256 + 1
        assertThat(level0.rows()).isEqualTo(15); // (4096 - 512) / 256 + 1
        assertThat(level1.readStepPx()).isEqualTo(128);
        assertThat(level1.step0()).isEqualTo(256);
        assertThat(level1.columns()).isEqualTo(19);
        assertThat(level1.tileX(18)).isEqualTo(18 * 256L);
    }

    @Test
    void leavesOutTilesThatWouldCrossTheSlideEdge() {
        assertThat(geometry(5120 + 511, 4096 + 1, 0.25, DEFAULTS, 1, 4).columns()).isEqualTo(10);
        assertThat(geometry(5120 + 511, 4096 + 1, 0.25, DEFAULTS, 1, 4).rows()).isEqualTo(8);
        assertThat(geometry(5120 + 512, 4096, 0.25, DEFAULTS, 1, 4).columns()).isEqualTo(11);
    }

    @Test
    void leavesOutTilesBeyondAReadLevelRoundedDown() {
        // level 1 says 2559 px wide although 5120 / 2 = 2560: the last read would cross its edge
        TileGeometry g =
                TileGeometry.of(
                        new long[] {5120, 2559},
                        new long[] {4096, 2048},
                        new double[] {1, 2},
                        0.25,
                        DEFAULTS);

        assertThat(g.readLevel()).isEqualTo(1);
        assertThat(g.columns()).isEqualTo(9);
        assertThat(g.rows()).isEqualTo(8);
    }

    @Test
    void hasAnEmptyGridWhenTheSlideIsSmallerThanOneTile() {
        TileGeometry g = geometry(511, 4096, 0.25, DEFAULTS, 1);

        assertThat(g.columns()).isZero();
        assertThat(g.gridTileCount()).isZero();
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, -0.25, Double.NaN, Double.POSITIVE_INFINITY})
    void rejectsALevelZeroResolutionThatIsNotPositive(double mpp0) {
        assertThatThrownBy(() -> geometry(4096, 4096, mpp0, DEFAULTS, 1))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_RESOLUTION));
    }
}
