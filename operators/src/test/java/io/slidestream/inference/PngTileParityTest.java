package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.preprocess.TilePreprocessor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Parity (b): the nine PNG tiles of the fixture through the Java preprocessing ({@link
 * TilePreprocessor}: Pillow-identical bicubic resize, ImageNet normalisation) and the gpfm-tiny
 * engine give the PyTorch reference embedding of every tile, cosine similarity at least 0.9999.
 */
class PngTileParityTest {

    private static final double MIN_COSINE = 0.9999;

    @Test
    void embedsEveryPngTileLikeThePyTorchReferencePipeline() {
        List<String> files = io.slidestream.preprocess.GpfmTinyFixture.TILES;
        int inputSize;
        try (EmbeddingEngine engine =
                EmbeddingEngine.open(GpfmTinyFixture.config(files.size()).build())) {
            inputSize = engine.height();
            TilePreprocessor preprocessor = new TilePreprocessor(inputSize);
            List<float[]> tensors = new ArrayList<>();
            for (String file : files) {
                tensors.add(
                        preprocessor.preprocess(
                                io.slidestream.preprocess.GpfmTinyFixture.tile(file)));
            }
            float[][] embeddings = engine.embed(tensors);

            assertThat(embeddings.length).isEqualTo(files.size());
            double minCosine = 1;
            String worst = null;
            float maxDiff = 0;
            for (int i = 0; i < files.size(); i++) {
                float[] reference = GpfmTinyFixture.embedding(files.get(i));
                assertThat(embeddings[i]).hasSameSizeAs(reference);
                double cosine = GpfmTinyFixture.cosine(embeddings[i], reference);
                float diff = GpfmTinyFixture.maxAbsDiff(embeddings[i], reference);
                System.out.printf(
                        "parity (b) %s: cosine %.9f, max abs diff %.3g%n",
                        files.get(i), cosine, diff);
                assertThat(cosine)
                        .as("cosine similarity of %s", files.get(i))
                        .isGreaterThanOrEqualTo(MIN_COSINE);
                if (cosine < minCosine) {
                    minCosine = cosine;
                    worst = files.get(i);
                }
                maxDiff = Math.max(maxDiff, diff);
            }
            System.out.printf(
                    "parity (b) over %d tiles: min cosine %.9f (%s), max abs diff %.3g%n",
                    files.size(), minCosine, worst, maxDiff);
        }
    }
}
