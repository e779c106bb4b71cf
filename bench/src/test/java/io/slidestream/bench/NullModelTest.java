package io.slidestream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The null model is a real ONNX file that ONNX Runtime runs with the embedding contract. */
class NullModelTest {

    @TempDir Path dir;

    @Test
    void embedsTheChannelMeansTimesItsMatrixThroughOnnxRuntime() throws Exception {
        int size = 224;
        int d = 64;
        Path file = NullModel.write(dir.resolve("null.onnx"), size, d);
        SplittableRandom rnd = new SplittableRandom(5);
        float[][] tiles = new float[3][3 * size * size];
        for (float[] t : tiles) {
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) rnd.nextDouble(-2, 2);
            }
        }
        try (EmbeddingEngine engine =
                EmbeddingEngine.open(
                        file,
                        InferenceConfig.builder()
                                .set(InferenceOptions.MODEL_PATH, file)
                                .set(InferenceOptions.BATCH_SIZE, 4)
                                .build())) {
            assertThat(engine.dimension()).isEqualTo(d);
            float[][] out = engine.embed(List.of(tiles));
            assertThat(out).hasNumberOfRows(3);
            for (int n = 0; n < 3; n++) {
                double[] mean = new double[3];
                for (int c = 0; c < 3; c++) {
                    for (int i = 0; i < size * size; i++) {
                        mean[c] += tiles[n][c * size * size + i];
                    }
                    mean[c] /= size * size;
                }
                for (int j = 0; j < d; j++) {
                    double expected = 0;
                    for (int c = 0; c < 3; c++) {
                        expected += mean[c] * NullModel.weight(c, j);
                    }
                    assertThat((double) out[n][j]).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }
}
