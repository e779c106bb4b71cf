package io.slidestream.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PilBicubicResizerTest {

    @Test
    void keepsImageUnchangedWhenSizeIsUnchanged() {
        int[] src = randomImage(37, 23, 1L);
        int[] dst = new int[37 * 23];

        PilBicubicResizer.resize(src, 37, 23, dst, 37, 23);

        assertThat(dst).containsExactly(src);
    }

    @Test
    void keepsConstantImageConstant() {
        int[] src = new int[50 * 40];
        java.util.Arrays.fill(src, 0x12ab7f);
        int[] dst = new int[33 * 71];

        PilBicubicResizer.resize(src, 50, 40, dst, 33, 71);

        assertThat(dst).containsOnly(0x12ab7f);
    }

    @Test
    void downsamplesStepEdgeWithWidenedFilter() {
        // Hand-computed: 8 -> 4 doubles the support to 4 px; output 1 (centre 3.0) weighs inputs
        // 0..6 at distances -1.25..1.75 (scaled by 1/2) with Keys weights -0.0703125, 0.2265625,
        // 0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375 (sum 2.0234375); the 255 side
        // gets (0.2265625 - 0.0703125 - 0.0234375) / 2.0234375 = 0.0656 -> 16.74 -> 17.
        // Pillow 12.3 gives [0, 17, 238, 255] as well.
        int[] src = grayRow(0, 0, 0, 0, 255, 255, 255, 255);
        int[] dst = new int[4];

        PilBicubicResizer.resize(src, 8, 1, dst, 4, 1);

        assertThat(grayValues(dst)).containsExactly(0, 17, 238, 255);
    }

    @Test
    void upsamplesWithKeysCubicWeights() {
        // Hand-computed: 4 -> 8, output 3 has centre 1.75 and reads inputs 0..3 at distances
        // -1.25, -0.25, 0.75, 1.75: weights -0.0703125, 0.8671875, 0.2265625, -0.0234375 (sum 1,
        // exact in 22-bit fixed point). 100 * 0.8671875 + 200 * 0.2265625 - 50 * 0.0234375 =
        // 130.86 -> 131. Pillow 12.3 gives [0, 17, 71, 131, 193, 174, 81, 37].
        PilBicubicResizer.Coefficients table = PilBicubicResizer.table(4, 8);
        assertThat(table.start[3]).isZero();
        assertThat(table.count[3]).isEqualTo(4);
        assertThat(java.util.Arrays.copyOfRange(table.fixed, 3 * table.ksize, 3 * table.ksize + 4))
                .containsExactly(-294912, 3637248, 950272, -98304);

        int[] dst = new int[8];
        PilBicubicResizer.resize(grayRow(0, 100, 200, 50), 4, 1, dst, 8, 1);

        assertThat(grayValues(dst)).containsExactly(0, 17, 71, 131, 193, 174, 81, 37);
    }

    @ParameterizedTest(name = "{0}x{1} -> {2}x{3}")
    @CsvSource({
        "256, 256, 224, 224",
        "512, 512, 224, 224",
        "100, 100, 37, 37",
        "37, 37, 100, 100",
        "300, 200, 224, 224",
        "64, 48, 50, 90",
        "224, 224, 224, 100",
        "224, 180, 100, 180",
        "1, 1, 3, 5",
        "997, 1001, 224, 224",
        "5, 700, 9, 3"
    })
    void matchesStraightforwardReferenceImplementation(int w, int h, int outW, int outH) {
        int[] src = randomImage(w, h, 31L * w + h);
        int[] dst = new int[outW * outH];

        PilBicubicResizer.resize(src, w, h, dst, outW, outH);

        assertSamePixels(dst, ReferenceResize.resize(src, w, h, outW, outH));
    }

    @Test
    void clipsSumsExactlyAsPillowsClip8() {
        int bits = PilBicubicResizer.PRECISION_BITS;
        List<Integer> sums = new ArrayList<>(List.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1));
        for (int v = -2; v <= 257; v++) {
            sums.add(v << bits);
            sums.add((v << bits) - 1);
            sums.add((v << bits) + 1);
        }
        for (long s = Integer.MIN_VALUE; s <= Integer.MAX_VALUE; s += 65_537) {
            sums.add((int) s);
        }
        for (int sum : sums) {
            assertThat(PilBicubicResizer.clip8(sum))
                    .as("clip8(%d)", sum)
                    .isEqualTo(Math.min(255, Math.max(0, sum >> bits)));
        }
    }

    @Test
    void matchesPillowOutputOnSmallImages() throws IOException {
        List<String[]> cases = pillowCases();
        assertThat(cases).hasSize(9);
        for (String[] c : cases) {
            int w = Integer.parseInt(c[0]);
            int h = Integer.parseInt(c[1]);
            int outW = Integer.parseInt(c[2]);
            int outH = Integer.parseInt(c[3]);
            int[] src = new int[w * h];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    src[y * w + x] =
                            generatorPixel(x, y, 0) << 16
                                    | generatorPixel(x, y, 1) << 8
                                    | generatorPixel(x, y, 2);
                }
            }
            int[] dst = new int[outW * outH];

            PilBicubicResizer.resize(src, w, h, dst, outW, outH);

            int[] expected = new int[outW * outH];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = Integer.parseInt(c[4].substring(6 * i, 6 * i + 6), 16);
            }
            assertSamePixels(dst, expected);
        }
    }

    @Test
    void writesPlanesInChwOrder() {
        int[] src = randomImage(90, 70, 7L);
        int[] packed = new int[40 * 30];
        byte[] planes = new byte[3 * 40 * 30];

        PilBicubicResizer.resize(src, 90, 70, packed, 40, 30);
        PilBicubicResizer.resizeToPlanes(src, 90, 70, 40, 30, planes);

        for (int i = 0; i < packed.length; i++) {
            assertThat(planes[i] & 0xff).isEqualTo((packed[i] >> 16) & 0xff);
            assertThat(planes[1200 + i] & 0xff).isEqualTo((packed[i] >> 8) & 0xff);
            assertThat(planes[2400 + i] & 0xff).isEqualTo(packed[i] & 0xff);
        }
    }

    @Test
    void ignoresTheHighByteOfSourcePixels() {
        int[] src = randomImage(60, 60, 3L);
        int[] withAlpha = src.clone();
        for (int i = 0; i < withAlpha.length; i++) {
            withAlpha[i] |= 0xff000000;
        }
        int[] a = new int[45 * 45];
        int[] b = new int[45 * 45];

        PilBicubicResizer.resize(src, 60, 60, a, 45, 45);
        PilBicubicResizer.resize(withAlpha, 60, 60, b, 45, 45);

        assertThat(b).containsExactly(a);
    }

    @Test
    void rejectsBuffersThatDoNotFitTheSizes() {
        assertThatThrownBy(() -> PilBicubicResizer.resize(new int[10], 4, 4, new int[4], 2, 2))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("4x4")
                .extracting(e -> ((SlideStreamException) e).code())
                .isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThatThrownBy(() -> PilBicubicResizer.resize(new int[16], 4, 4, new int[4], 0, 2))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("0x2");
        assertThatThrownBy(
                        () ->
                                PilBicubicResizer.resizeToPlanes(
                                        new int[16], 4, 4, 2, 2, new byte[11]))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("needs 12");
    }

    /** Exact equality, reported as a count and the first differing pixel, not a 50k-item dump. */
    private static void assertSamePixels(int[] actual, int[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        int first = -1;
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
            if (actual[i] != expected[i]) {
                differing++;
                first = first < 0 ? i : first;
            }
        }
        assertThat(differing)
                .as(
                        "pixels differing; first at index %d: %06x instead of %06x",
                        first, first < 0 ? 0 : actual[first], first < 0 ? 0 : expected[first])
                .isZero();
    }

    private static int generatorPixel(int x, int y, int c) {
        return ((x * x * 7 + y * 13 + c * 101) ^ (y * y * 3 + x * c)) & 0xff;
    }

    private static List<String[]> pillowCases() throws IOException {
        List<String[]> cases = new ArrayList<>();
        try (BufferedReader reader =
                new BufferedReader(
                        new InputStreamReader(
                                PilBicubicResizerTest.class.getResourceAsStream(
                                        "/pil-bicubic/pillow-bicubic.txt"),
                                StandardCharsets.US_ASCII))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    cases.add(line.trim().split(" "));
                }
            }
        }
        return cases;
    }

    static int[] randomImage(int w, int h, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] pixels = new int[w * h];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = random.nextInt(1 << 24);
        }
        return pixels;
    }

    private static int[] grayRow(int... values) {
        int[] row = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            row[i] = values[i] * 0x010101;
        }
        return row;
    }

    private static int[] grayValues(int[] packed) {
        int[] values = new int[packed.length];
        for (int i = 0; i < packed.length; i++) {
            assertThat(packed[i] >> 16).isEqualTo(packed[i] & 0xff);
            values[i] = packed[i] & 0xff;
        }
        return values;
    }

    /**
     * The resize written the plain way, from the definition rather than from Pillow's code: image
     * as [y][x][c], full horizontal pass over every row, then the vertical pass, Keys cubic in its
     * textbook polynomial form, window bounds with floor, weights divided by their sum and rounded
     * half away from zero to 22-bit fixed point, sums in long, each pass rounded and clamped to
     * 0..255.
     */
    static final class ReferenceResize {
        private static final double A = -0.5;
        private static final int BITS = 22;

        static int[] resize(int[] packed, int w, int h, int outW, int outH) {
            int[][][] image = new int[h][w][3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = packed[y * w + x];
                    image[y][x] = new int[] {(p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff};
                }
            }
            if (outW != w) {
                int[][][] next = new int[h][outW][3];
                for (int i = 0; i < outW; i++) {
                    Window win = window(w, outW, i);
                    for (int y = 0; y < h; y++) {
                        for (int c = 0; c < 3; c++) {
                            long sum = 1L << (BITS - 1);
                            for (int j = 0; j < win.weights.length; j++) {
                                sum += (long) image[y][win.first + j][c] * win.weights[j];
                            }
                            next[y][i][c] = clamp(sum);
                        }
                    }
                }
                image = next;
            }
            if (outH != h) {
                int[][][] next = new int[outH][outW][3];
                for (int i = 0; i < outH; i++) {
                    Window win = window(h, outH, i);
                    for (int x = 0; x < outW; x++) {
                        for (int c = 0; c < 3; c++) {
                            long sum = 1L << (BITS - 1);
                            for (int j = 0; j < win.weights.length; j++) {
                                sum += (long) image[win.first + j][x][c] * win.weights[j];
                            }
                            next[i][x][c] = clamp(sum);
                        }
                    }
                }
                image = next;
            }
            int[] out = new int[outW * outH];
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    int[] p = image[y][x];
                    out[y * outW + x] = p[0] << 16 | p[1] << 8 | p[2];
                }
            }
            return out;
        }

        private static int clamp(long sum) {
            return (int) Math.max(0, Math.min(255, sum >> BITS));
        }

        private record Window(int first, long[] weights) {}

        private static Window window(int in, int out, int i) {
            double scale = (double) in / out;
            double widen = Math.max(1.0, scale);
            double support = 2.0 * widen;
            double centre = (i + 0.5) * scale;
            int first = Math.max(0, (int) Math.floor(centre - support + 0.5));
            int end = Math.min(in, (int) Math.floor(centre + support + 0.5));
            double[] w = new double[end - first];
            double total = 0;
            for (int j = 0; j < w.length; j++) {
                double distance = Math.abs(first + j + 0.5 - centre) / widen;
                w[j] = keys(distance);
                total += w[j];
            }
            long[] fixed = new long[w.length];
            for (int j = 0; j < w.length; j++) {
                double v = w[j] / total * (1 << BITS);
                fixed[j] = v < 0 ? -Math.round(-v) : Math.round(v);
            }
            return new Window(first, fixed);
        }

        private static double keys(double t) {
            if (t < 1) {
                return (A + 2) * t * t * t - (A + 3) * t * t + 1;
            }
            if (t < 2) {
                return A * t * t * t - 5 * A * t * t + 8 * A * t - 4 * A;
            }
            return 0;
        }
    }
}
