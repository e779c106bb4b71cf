package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TissueMaskTest {

    /** 4x2 mask, 64 level-0 px per mask pixel, left two columns tissue. */
    private static TissueMask leftHalf() {
        byte[] bits = {1, 1, 0, 0, 1, 1, 0, 0};
        return new TissueMask(3, 4, 2, 64, 64, bits, new int[8], 5, 8);
    }

    @Test
    void givesTheFractionOfWholeMaskPixels() {
        TissueMask m = leftHalf();

        assertThat(m.tissueFraction(0, 0, 256, 128)).isEqualTo(0.5);
        assertThat(m.tissueFraction(0, 0, 128, 128)).isEqualTo(1.0);
        assertThat(m.tissueFraction(128, 0, 128, 128)).isEqualTo(0.0);
        assertThat(m.tissuePixelCount()).isEqualTo(4);
    }

    @Test
    void weightsPartlyCoveredMaskPixelsByTheirAreaInside() {
        TissueMask m = leftHalf();

        // half of pixel 1 (tissue) and half of pixel 2 (glass)
        assertThat(m.tissueFraction(96, 0, 64, 64)).isEqualTo(0.5);
        // a quarter of pixel 1 and three quarters of pixel 2, over half a row of pixels
        assertThat(m.tissueFraction(112, 32, 64, 64)).isCloseTo(0.25, within(1e-12));
        assertThat(m.tissueFraction(10, 10, 3, 7)).isEqualTo(1.0);
    }

    @Test
    void countsAreaOutsideTheSlideAsNoTissue() {
        TissueMask m = leftHalf();

        assertThat(m.tissueFraction(-128, 0, 256, 128)).isEqualTo(0.5);
        assertThat(m.tissueFraction(-512, -512, 256, 256)).isZero();
        assertThat(m.tissueFraction(192, 64, 128, 128)).isZero();
    }

    @Test
    void reportsBothThresholds() {
        TissueMask m = leftHalf();

        assertThat(m.otsuThreshold()).isEqualTo(5);
        assertThat(m.saturationThreshold()).isEqualTo(8);
        assertThat(m.isTissue(1, 1)).isTrue();
        assertThat(m.isTissue(2, 1)).isFalse();
    }
}
