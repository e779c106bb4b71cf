package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.testing.InMemorySlide;
import org.junit.jupiter.api.Test;

class TissueDetectorTest {

    private static final TissueDetector DETECTOR = new TissueDetector(TilingConfig.defaults());

    /** 4096 x 3072 with a pink block at mask pixels [8, 24) x [8, 20) and a purple one. */
    private static InMemorySlide.Builder twoBlocks() {
        return InMemorySlide.builder(4096, 3072)
                .tissue(512, 512, 1024, 768, InMemorySlide.EOSIN)
                .tissue(2560, 1536, 1024, 1024, InMemorySlide.HAEMATOXYLIN)
                .seed(42);
    }

    private static boolean insideBlock(int mx, int my) {
        boolean pink = mx >= 8 && mx < 24 && my >= 8 && my < 20;
        boolean purple = mx >= 40 && mx < 56 && my >= 24 && my < 40;
        return pink || purple;
    }

    /** The median rounds each block's convex corners: these pixels of a corner are lost. */
    private static boolean cornerPixel(int mx, int my) {
        int[][] blocks = {{8, 8, 23, 19}, {40, 24, 55, 39}};
        for (int[] b : blocks) {
            int dx = Math.min(mx - b[0], b[2] - mx);
            int dy = Math.min(my - b[1], b[3] - my);
            if (dx >= 0 && dy >= 0 && ((dx == 0 && dy <= 2) || (dy == 0 && dx <= 2))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void marksTheStainedBlocksAndNotTheGlass() {
        InMemorySlide slide = twoBlocks().build();

        TissueMask mask = DETECTOR.detect(slide);

        assertThat(mask.sourceLevel()).isEqualTo(3);
        assertThat(mask.width()).isEqualTo(64);
        assertThat(mask.height()).isEqualTo(48);
        assertThat(mask.scaleX()).isEqualTo(64.0);
        assertThat(mask.saturationThreshold()).isBetween(8, 70);
        for (int my = 0; my < 48; my++) {
            for (int mx = 0; mx < 64; mx++) {
                boolean expected = insideBlock(mx, my) && !cornerPixel(mx, my);
                assertThat(mask.isTissue(mx, my)).as("(%d,%d)", mx, my).isEqualTo(expected);
            }
        }
        assertThat(slide.pixelsRead()).isEqualTo(64 * 48);
    }

    @Test
    void findsNoTissueOnBlankGlassBecauseTheThresholdIsRaisedToTheMinimum() {
        InMemorySlide slide = InMemorySlide.builder(4096, 3072).seed(7).build();

        TissueMask mask = DETECTOR.detect(slide);

        assertThat(mask.otsuThreshold()).isLessThan(8);
        assertThat(mask.saturationThreshold()).isEqualTo(8);
        assertThat(mask.tissuePixelCount()).isZero();
    }

    @Test
    void downscalesAFinerLevelToTheMaskSizeReadingItInStrips() {
        InMemorySlide withMaskLevel = twoBlocks().build();
        InMemorySlide without = twoBlocks().downsamples(1, 4, 16).build();
        TissueDetector smallReads = new TissueDetector(TilingConfig.defaults(), 256 * 10);

        TissueMask direct = DETECTOR.detect(withMaskLevel);
        TissueMask downscaled = smallReads.detect(without);

        assertThat(downscaled.sourceLevel()).isEqualTo(2);
        assertThat(downscaled.width()).isEqualTo(64);
        assertThat(downscaled.height()).isEqualTo(48);
        assertThat(without.largestRead()).isEqualTo(256 * 10);
        assertThat(without.pixelsRead()).isEqualTo(256 * 192);
        assertThat(without.readCount()).isEqualTo(20); // 192 rows in strips of 10
        for (int my = 0; my < 48; my++) {
            for (int mx = 0; mx < 64; mx++) {
                assertThat(downscaled.isTissue(mx, my))
                        .as("(%d,%d)", mx, my)
                        .isEqualTo(direct.isTissue(mx, my));
            }
        }
    }

    @Test
    void averagesEachBlockOfTheFinerLevel() {
        // flat colours, level 16 downscaled 4x: every mask pixel averages 4x4 pixels exactly
        InMemorySlide slide =
                InMemorySlide.builder(1024, 1024)
                        .downsamples(1, 16)
                        .noise(0)
                        .background(0x000000)
                        .tissue(0, 0, 32, 64, 0xFFFFFF) // left half of mask pixel (0, 0)
                        .build();

        TissueMask mask = DETECTOR.detect(slide);

        assertThat(mask.width()).isEqualTo(16);
        assertThat(mask.imageRgb(0, 0)).isEqualTo(0x808080); // 127.5 rounds up
        assertThat(mask.imageRgb(1, 0)).isEqualTo(0x000000);
    }

    @Test
    void readsASlideWithoutPyramidInBoundedStrips() {
        InMemorySlide slide = twoBlocks().downsamples(1).build();
        TissueDetector smallReads = new TissueDetector(TilingConfig.defaults(), 1 << 16);

        TissueMask mask = smallReads.detect(slide);

        assertThat(mask.sourceLevel()).isZero();
        assertThat(mask.width()).isEqualTo(64);
        assertThat(mask.height()).isEqualTo(48);
        assertThat(slide.largestRead()).isLessThanOrEqualTo(1 << 16);
        assertThat(slide.pixelsRead()).isEqualTo(4096L * 3072);
        assertThat(mask.isTissue(15, 14)).isTrue();
        assertThat(mask.isTissue(30, 30)).isFalse();
    }

    @Test
    void passesOnTheSlidesReadFailure() {
        InMemorySlide slide = twoBlocks().failReads().build();

        assertThatThrownBy(() -> DETECTOR.detect(slide))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT_SLIDE));
    }
}
