package io.slidestream.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.platform.Fp16Conversions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TilePreprocessorTest {

    private final TilePreprocessor preprocessor = new TilePreprocessor();

    @ParameterizedTest
    @CsvSource({
        "tile_03_x1024_y1536_256.png, preprocessed_tile_03.f32",
        "tile_08_x1024_y1024_512.png, preprocessed_tile_08.f32"
    })
    void matchesTheReferencePipelineTensor(String tile, String reference) {
        float[] expected = GpfmTinyFixture.floats(reference);
        float[] actual = preprocessor.preprocess(GpfmTinyFixture.tile(tile));

        assertThat(actual).hasSize(3 * 224 * 224).hasSameSizeAs(expected);
        double max = 0;
        double sum = 0;
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            max = Math.max(max, d);
            sum += d;
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                differing++;
            }
        }
        double mean = sum / expected.length;
        System.out.printf(
                "%s: max abs diff %.3g, mean abs diff %.3g, %d of %d floats not bit-identical%n",
                tile, max, mean, differing, expected.length);
        assertThat(max).isLessThanOrEqualTo(0.02);
        assertThat(mean).isLessThanOrEqualTo(0.001);
        // The port is exact: same resize bytes, same float32 arithmetic as PyTorch.
        assertThat(differing).as("floats not bit-identical to the reference").isZero();
    }

    @Test
    void givesFiniteNormalisedValuesForEveryFixtureTile() {
        float[][] bounds = {
            {(0f - 0.485f) / 0.229f, (1f - 0.485f) / 0.229f},
            {(0f - 0.456f) / 0.224f, (1f - 0.456f) / 0.224f},
            {(0f - 0.406f) / 0.225f, (1f - 0.406f) / 0.225f}
        };
        int plane = 224 * 224;
        for (String tile : GpfmTinyFixture.TILES) {
            float[] tensor = preprocessor.preprocess(GpfmTinyFixture.tile(tile));

            assertThat(tensor).hasSize(3 * plane);
            for (int c = 0; c < 3; c++) {
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                for (int i = c * plane; i < (c + 1) * plane; i++) {
                    assertThat(Float.isFinite(tensor[i])).isTrue();
                    min = Math.min(min, tensor[i]);
                    max = Math.max(max, tensor[i]);
                }
                assertThat(min).as("%s channel %d", tile, c).isGreaterThanOrEqualTo(bounds[c][0]);
                assertThat(max).as("%s channel %d", tile, c).isLessThanOrEqualTo(bounds[c][1]);
                assertThat(max).as("%s channel %d has texture", tile, c).isGreaterThan(min);
            }
        }
    }

    @Test
    void normalisesLikeToTensorThenNormalizeInFloat32() {
        // v=0 and v=255 by hand: (0 - 0.485f) / 0.229f and (1 - 0.485f) / 0.229f; v=128 for G:
        // 128 / 255 = 0.5019608f, minus 0.456f, divided by 0.224f.
        float[] red = TilePreprocessor.normalisationTable(0.485f, 0.229f);
        float[] green = TilePreprocessor.normalisationTable(0.456f, 0.224f);

        assertThat(red[0]).isEqualTo(-2.117904f);
        assertThat(red[255]).isEqualTo(2.2489083f);
        assertThat(green[128]).isEqualTo((0.5019608f - 0.456f) / 0.224f);
        for (int v = 1; v < 256; v++) {
            assertThat(red[v]).isGreaterThan(red[v - 1]);
        }
    }

    @Test
    void fillsBatchBufferInPlaceAtOffset() {
        BufferedImage tile = GpfmTinyFixture.tile("tile_05_x1536_y2048_256.png");
        int n = preprocessor.tensorLength();
        float[] batch = new float[3 * n];
        java.util.Arrays.fill(batch, Float.NaN);

        preprocessor.preprocess(tile, batch, n);

        assertThat(java.util.Arrays.copyOfRange(batch, n, 2 * n))
                .containsExactly(preprocessor.preprocess(tile));
        assertThat(java.util.Arrays.copyOfRange(batch, 0, n)).containsOnly(Float.NaN);
        assertThat(java.util.Arrays.copyOfRange(batch, 2 * n, 3 * n)).containsOnly(Float.NaN);
    }

    @Test
    void normalisesWithoutResizingWhenTileHasInputSize() {
        int[] rgb = PilBicubicResizerTest.randomImage(224, 224, 11L);

        float[] tensor = preprocessor.preprocess(rgb, 224, 224);

        int plane = 224 * 224;
        for (int i = 0; i < plane; i += 97) {
            assertThat(tensor[i]).isEqualTo(((rgb[i] >> 16 & 0xff) / 255f - 0.485f) / 0.229f);
            assertThat(tensor[plane + i])
                    .isEqualTo(((rgb[i] >> 8 & 0xff) / 255f - 0.456f) / 0.224f);
            assertThat(tensor[2 * plane + i]).isEqualTo(((rgb[i] & 0xff) / 255f - 0.406f) / 0.225f);
        }
    }

    @Test
    void writesFloat16BitsOfExactlyTheFloat32Tensor() {
        // Same size (no resize), 256 and 512 px reads resized to 224, wider and taller tiles.
        int[][] sizes = {{224, 224}, {256, 256}, {512, 512}, {300, 224}, {224, 250}};
        int n = preprocessor.tensorLength();
        for (int[] size : sizes) {
            int[] rgb = PilBicubicResizerTest.randomImage(size[0], size[1], size[0] * 31L);
            float[] floats = preprocessor.preprocess(rgb, size[0], size[1]);
            short[] halves = new short[n + 5];

            preprocessor.preprocessHalf(rgb, size[0], size[1], halves, 5);

            for (int i = 0; i < n; i++) {
                if (halves[5 + i] != Fp16Conversions.floatToFp16(floats[i])) {
                    throw new AssertionError(
                            String.format(
                                    "%dx%d: value %d is %04x in float16, the float32 %s converts"
                                            + " to %04x",
                                    size[0],
                                    size[1],
                                    i,
                                    halves[5 + i],
                                    floats[i],
                                    Fp16Conversions.floatToFp16(floats[i])));
                }
            }
            assertThat(halves[0]).isZero();
        }
        assertThatThrownBy(
                        () ->
                                preprocessor.preprocessHalf(
                                        new int[224 * 224], 224, 224, new short[n], 1))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }

    @Test
    void resizesToTheModelsInputSize() {
        TilePreprocessor small =
                new TilePreprocessor(
                        112, new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5});
        assertThat(small.tensorLength()).isEqualTo(3 * 112 * 112);
        // Square, wider (horizontal pass only) and taller (vertical pass only) tiles.
        int[][] sizes = {{256, 256}, {150, 112}, {112, 90}};
        for (int[] size : sizes) {
            int[] rgb = PilBicubicResizerTest.randomImage(size[0], size[1], 5L);
            byte[] planes = new byte[3 * 112 * 112];
            PilBicubicResizer.resizeToPlanes(rgb, size[0], size[1], 112, 112, planes);

            float[] tensor = small.preprocess(rgb, size[0], size[1]);

            for (int i = 0; i < planes.length; i++) {
                assertThat(tensor[i]).isEqualTo(((planes[i] & 0xff) / 255f - 0.5f) / 0.5f);
            }
        }
    }

    @Test
    void givesSameTensorsFromConcurrentThreads() throws Exception {
        List<BufferedImage> tiles = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (String name : GpfmTinyFixture.TILES) {
            BufferedImage tile = GpfmTinyFixture.tile(name);
            tiles.add(tile);
            expected.add(preprocessor.preprocess(tile));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int round = 0; round < 8; round++) {
                for (int t = 0; t < tiles.size(); t++) {
                    int index = (t + round) % tiles.size();
                    results.add(
                            pool.submit(
                                    () ->
                                            java.util.Arrays.equals(
                                                    preprocessor.preprocess(tiles.get(index)),
                                                    expected.get(index))));
                }
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get(60, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void convertsImageTypesToOpaqueRgb() {
        BufferedImage bgr = new BufferedImage(2, 1, BufferedImage.TYPE_3BYTE_BGR);
        bgr.setRGB(0, 0, 0x123456);
        bgr.setRGB(1, 0, 0xfedcba);
        assertThat(TilePreprocessor.toPackedRgb(bgr)).containsExactly(0x123456, 0xfedcba);

        BufferedImage abgr = new BufferedImage(3, 1, BufferedImage.TYPE_4BYTE_ABGR);
        abgr.setRGB(0, 0, 0xff102030);
        abgr.setRGB(1, 0, 0x00102030);
        abgr.setRGB(2, 0, 0x80000000);
        // Transparent -> white; half-transparent black over white -> (255 * 127 + 127) / 255.
        assertThat(TilePreprocessor.toPackedRgb(abgr))
                .containsExactly(0x102030, 0xffffff, 0x7f7f7f);

        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 100);
        gray.getRaster().setSample(1, 0, 0, 200);
        // Replicated as PIL's convert("RGB") does, not gamma-converted as getRGB would.
        assertThat(TilePreprocessor.toPackedRgb(gray)).containsExactly(0x646464, 0xc8c8c8);

        BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED);
        indexed.setRGB(0, 0, 0xff0000);
        indexed.setRGB(1, 0, 0x0000ff);
        assertThat(TilePreprocessor.toPackedRgb(indexed)).containsExactly(0xff0000, 0x0000ff);

        BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00abcdef);
        assertThat(TilePreprocessor.toPackedRgb(argb)).containsExactly(0xffffff);

        BufferedImage rgb = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(2, 1, 0x010203);
        assertThat(TilePreprocessor.toPackedRgb(rgb)).containsExactly(0, 0, 0, 0, 0, 0x010203);
    }

    @Test
    void rejectsBuffersAndSettingsThatDoNotFit() {
        int n = preprocessor.tensorLength();
        assertThatThrownBy(
                        () ->
                                preprocessor.preprocess(
                                        new int[256 * 256], 256, 256, new float[n], 1))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("at offset 1")
                .extracting(e -> ((SlideStreamException) e).code())
                .isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThatThrownBy(() -> preprocessor.preprocess(new int[100], 256, 256))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("256x256");
        assertThatThrownBy(() -> preprocessor.preprocess(new int[100], 224, 224))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("224x224");
        assertThatThrownBy(() -> new TilePreprocessor(0))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("input size 0");
        assertThatThrownBy(
                        () ->
                                new TilePreprocessor(
                                        224,
                                        new double[] {0.5, 0.5, 0.5},
                                        new double[] {0.2, 0, 0.2}))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("std positive");
    }
}
