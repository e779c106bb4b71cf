package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Known answers for the mask operations. Arrays marked "OpenCV 5.0.0" were computed with {@code
 * opencv-python-headless} 5.0.0 ({@code cvtColor(COLOR_RGB2HSV)}, {@code medianBlur}, {@code
 * threshold(THRESH_OTSU)}, {@code morphologyEx(MORPH_CLOSE)}) on the same inputs.
 */
class MaskFiltersTest {

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static int[] unsigned(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }

    private static byte[] median(byte[] src, int w, int h, int k) {
        byte[] dst = new byte[src.length];
        MaskFilters.medianBlur(src, dst, w, h, k);
        return dst;
    }

    @Test
    void saturationMatchesOpenCvFixedPoint() {
        int[] rgb = {
            0xC86432, 0xFF0000, 0x808080, 0x010000, 0xE6A0C8, 0x784BA0, 0xF5F2F0, 0x1103FA,
            0xFEFDFB, 0x000000
        };
        byte[] s = new byte[rgb.length];

        MaskFilters.saturation(rgb, 0, s, 0, rgb.length);

        // OpenCV 5.0.0; black has saturation 0
        assertThat(unsigned(s)).containsExactly(191, 255, 0, 255, 78, 135, 5, 252, 3, 0);
    }

    @Test
    void medianMatchesOpenCvWithReplicatedBorders() {
        byte[] src =
                bytes(
                        139, 74, 229, 241, 169, 65, 6, 160, 149, 106, 38, 175, 188, 205, 175, 229,
                        98, 249, 10, 148, 95, 86, 147, 198, 66, 39, 106, 213, 171, 45, 167, 57, 69,
                        81, 55, 14, 153, 178, 215, 76, 52, 39);

        // OpenCV 5.0.0, 7 wide and 6 high; the 7x7 window is larger than the image
        assertThat(unsigned(median(src, 7, 6, 3)))
                .containsExactly(
                        139, 139, 149, 175, 169, 169, 65, 160, 149, 149, 169, 169, 148, 95, 160,
                        149, 147, 98, 106, 148, 188, 171, 167, 147, 69, 69, 81, 95, 86, 153, 153,
                        76, 69, 69, 55, 45, 153, 167, 167, 76, 55, 52);
        assertThat(unsigned(median(src, 7, 6, 7)))
                .containsExactly(
                        139, 139, 139, 139, 106, 106, 95, 139, 147, 139, 139, 98, 95, 69, 147, 147,
                        139, 139, 98, 95, 69, 149, 147, 139, 106, 98, 95, 69, 153, 147, 106, 106,
                        98, 81, 69, 147, 86, 86, 86, 81, 76, 55);
    }

    @Test
    void medianMatchesOpenCvOnAWiderImage() {
        byte[] src =
                bytes(
                        215, 50, 161, 223, 112, 172, 161, 233, 38, 17, 89, 1, 221, 6, 242, 127, 143,
                        6, 60, 210, 94, 25, 166, 33, 249, 189, 12, 204, 33, 57, 124, 30, 199, 149,
                        202, 119, 72, 220, 3, 209, 122, 136, 147, 77, 133, 82, 115, 87, 162, 230,
                        70, 71, 240, 62, 47, 184, 31, 34, 63, 65, 146, 197, 142, 253, 81, 133, 240,
                        113, 30, 247, 103, 122, 31, 19, 42, 129, 141, 136, 33, 149, 161, 0, 178,
                        141, 107, 35, 107, 130, 72, 27, 217, 254, 99, 13, 195, 206, 59, 228, 235);

        // OpenCV 5.0.0, 11 wide and 9 high
        assertThat(unsigned(median(src, 11, 9, 5)))
                .containsExactly(
                        166, 189, 161, 161, 161, 161, 127, 124, 89, 89, 89, 161, 166, 161, 161, 161,
                        161, 127, 124, 89, 89, 89, 149, 149, 133, 143, 143, 127, 127, 122, 77, 77,
                        77, 133, 133, 119, 119, 119, 122, 136, 124, 94, 94, 94, 149, 133, 115, 113,
                        115, 103, 122, 122, 122, 124, 133, 136, 133, 115, 113, 119, 122, 122, 122,
                        122, 122, 130, 133, 133, 103, 103, 122, 122, 107, 122, 129, 130, 130, 113,
                        136, 99, 99, 141, 141, 103, 129, 141, 133, 133, 72, 136, 103, 103, 149, 141,
                        99, 122, 141, 141, 141);
        assertThat(unsigned(median(src, 11, 9, 7)))
                .containsExactly(
                        189, 166, 166, 161, 161, 161, 136, 112, 89, 89, 89, 161, 161, 161, 161, 161,
                        161, 127, 112, 89, 89, 89, 161, 149, 149, 146, 127, 142, 127, 122, 94, 89,
                        89, 149, 149, 143, 127, 115, 122, 122, 122, 122, 89, 89, 136, 136, 136, 127,
                        113, 122, 122, 122, 122, 107, 122, 136, 136, 133, 122, 113, 122, 122, 122,
                        130, 130, 130, 133, 133, 119, 119, 115, 122, 122, 129, 133, 133, 133, 133,
                        103, 103, 113, 113, 122, 122, 129, 141, 141, 141, 72, 99, 99, 103, 122, 141,
                        129, 130, 142, 195, 206);
    }

    @Test
    void medianRemovesIsolatedSpecksAndKeepsStraightEdges() {
        int w = 12;
        int h = 10;
        byte[] src = new byte[w * h];
        src[2 * w + 2] = (byte) 200; // a speck
        for (int y = 0; y < h; y++) {
            for (int x = 8; x < w; x++) {
                src[y * w + x] = (byte) 100; // a band touching the right edge
            }
        }

        byte[] out = median(src, w, h, 7);

        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                assertThat(out[y * w + x] & 0xFF).as("(%d,%d)", x, y).isEqualTo(x >= 8 ? 100 : 0);
            }
        }
    }

    @Test
    void medianOfKernelOneIsACopy() {
        byte[] src = bytes(1, 2, 3, 4, 5, 6);

        assertThat(median(src, 3, 2, 1)).containsExactly(src);
    }

    @Test
    void otsuMatchesOpenCvOnABimodalHistogram() {
        // 300 values around 40 and 200 around 160 (20x25 image); OpenCV 5.0.0 chose 89
        int[] hist = new int[256];
        int[] low = {
            7, 1, 13, 1, 14, 1, 17, 1, 18, 2, 19, 1, 20, 4, 21, 2, 22, 2, 23, 4, 24, 5, 25, 2, 26,
            5, 27, 8, 28, 8, 29, 6, 30, 6, 31, 9, 32, 4, 33, 11, 34, 13, 35, 9, 36, 11, 37, 14, 38,
            16, 39, 24, 40, 18, 41, 12, 42, 9, 43, 9, 44, 4, 45, 9, 46, 9, 47, 8, 48, 12, 49, 7, 50,
            4, 51, 6, 52, 3, 53, 3, 54, 5, 55, 5, 56, 2, 57, 1, 58, 1, 60, 2, 62, 1, 89, 1
        };
        int[] high = {
            111, 1, 112, 2, 114, 2, 116, 2, 117, 2, 118, 1, 121, 3, 122, 1, 123, 1, 124, 1, 125, 1,
            126, 2, 127, 2, 128, 2, 129, 2, 130, 1, 131, 5, 132, 4, 133, 4, 134, 3, 135, 5, 136, 2,
            137, 2, 138, 3, 139, 2, 140, 4, 141, 4, 143, 3, 144, 1, 145, 1, 146, 1, 147, 3, 148, 2,
            149, 1, 150, 6, 151, 3, 152, 5, 153, 1, 154, 3, 155, 4, 156, 4, 157, 4, 158, 7, 159, 5,
            160, 1, 161, 4, 162, 1, 163, 1, 164, 3, 165, 5, 166, 2, 167, 3, 168, 1, 169, 4, 170, 1,
            171, 2, 172, 2, 173, 2, 174, 5, 175, 2, 176, 1, 177, 1, 178, 1, 179, 1, 180, 3, 181, 2,
            182, 2, 183, 2, 184, 1, 185, 2, 186, 3, 187, 4, 191, 1, 192, 1, 193, 2, 194, 2, 196, 1,
            197, 1, 198, 2, 199, 1, 206, 3, 207, 1, 208, 1, 210, 1, 216, 1, 223, 1
        };
        int count = 0;
        for (int[] pairs : new int[][] {low, high}) {
            for (int i = 0; i < pairs.length; i += 2) {
                hist[pairs[i]] += pairs[i + 1];
                count += pairs[i + 1];
            }
        }
        assertThat(count).isEqualTo(500);

        assertThat(MaskFilters.otsuThreshold(hist, count)).isEqualTo(89);
    }

    @Test
    void otsuMatchesOpenCvOnSmallArrays() {
        // OpenCV 5.0.0: two values split at the lower one; a flat image gives 0; a ramp its middle
        assertThat(MaskFilters.otsuThreshold(bytes(10, 10, 200, 200), 4)).isEqualTo(10);
        byte[] flat = new byte[9];
        Arrays.fill(flat, (byte) 77);
        assertThat(MaskFilters.otsuThreshold(flat, 9)).isZero();
        assertThat(MaskFilters.otsuThreshold(bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 10)).isEqualTo(4);
    }

    @Test
    void closeWithAnOddKernelMatchesOpenCv() {
        byte[] mask =
                bytes(
                        1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0,
                        0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0,
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
                        1, 0, 0, 0, 0, 1, 0, 1);

        MaskFilters.close(mask, 12, 9, 3);

        // OpenCV 5.0.0, 12 wide and 9 high (the same with and without zero padding)
        assertThat(unsigned(mask))
                .containsExactly(
                        1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
                        0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
                        0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                        1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1,
                        1, 0, 0, 0, 0, 1, 1, 1);
    }

    @Test
    void closeWithCLAMsEvenKernelFillsGapsNarrowerThanItWithoutMovingTheMask() {
        int w = 20;
        int h = 10;
        byte[] mask = new byte[w * h];
        // bars at columns 2..5, 9..12 (gap of 3) and 17..19 (gap of 4), rows 2..7
        for (int y = 2; y < 8; y++) {
            for (int x = 0; x < w; x++) {
                boolean bar = (x >= 2 && x <= 5) || (x >= 9 && x <= 12) || x >= 17;
                mask[y * w + x] = (byte) (bar ? 1 : 0);
            }
        }

        MaskFilters.close(mask, w, h, 4);

        // OpenCV 5.0.0 gives the same shape one pixel further down and right
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean expected = y >= 2 && y < 8 && ((x >= 2 && x <= 12) || x >= 17);
                assertThat(mask[y * w + x])
                        .as("(%d,%d)", x, y)
                        .isEqualTo((byte) (expected ? 1 : 0));
            }
        }
    }

    @Test
    void closeDoesNotFillTheGlassBetweenTissueAndTheImageEdge() {
        byte[] mask = bytes(0, 1, 0, 0, 0, 0, 1, 0);

        MaskFilters.close(mask, 8, 1, 3);

        // OpenCV 5.0.0 gives 1, 1, 0, 0, 0, 0, 1, 1: its erosion sees foreground beyond the edge
        assertThat(unsigned(mask)).containsExactly(0, 1, 0, 0, 0, 0, 1, 0);
    }

    @Test
    void closeKeepsASinglePixelInPlace() {
        byte[] mask = new byte[81];
        mask[4 * 9 + 4] = 1;

        MaskFilters.close(mask, 9, 9, 4);

        byte[] expected = new byte[81];
        expected[4 * 9 + 4] = 1;
        assertThat(mask).containsExactly(expected);
    }

    @Test
    void closeOfKernelZeroOrOneChangesNothing() {
        byte[] mask = bytes(1, 0, 1, 0, 0, 1);

        MaskFilters.close(mask, 3, 2, 0);
        MaskFilters.close(mask, 3, 2, 1);

        assertThat(mask).containsExactly(bytes(1, 0, 1, 0, 0, 1));
    }
}
