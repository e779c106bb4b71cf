package io.slidestream.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

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
    }
}
