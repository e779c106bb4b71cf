package io.slidestream.inference;

import static io.slidestream.inference.GpfmTinyFixture.PREPROCESSED_03;
import static io.slidestream.inference.GpfmTinyFixture.PREPROCESSED_08;
import static io.slidestream.inference.GpfmTinyFixture.TILE_03;
import static io.slidestream.inference.GpfmTinyFixture.TILE_08;
import static io.slidestream.inference.GpfmTinyFixture.TOLERANCE;
import static io.slidestream.inference.GpfmTinyFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parity (e): the real gpfm-tiny engine and tissue head behind the micro-batcher. */
class MicroBatcherParityTest {

    @ParameterizedTest(name = "batch size {0}")
    @ValueSource(ints = {1, 3, 8})
    void givesTheReferenceEmbeddingsAndHeadProbabilitiesAtEveryBatchSize(int batchSize)
            throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(batchSize)
                        .set(InferenceOptions.TILE_HEAD_PATH, GpfmTinyFixture.tissueHead())
                        .build();
        float[] tile03 = GpfmTinyFixture.preprocessed(PREPROCESSED_03);
        float[] tile08 = GpfmTinyFixture.preprocessed(PREPROCESSED_08);
        try (TileInferenceEngine engine = TileInferenceEngine.open(config)) {
            // 11 tiles: full batches and a partial one at every batch size, tiles interleaved.
            List<CompletableFuture<TileInference>> futures = new ArrayList<>();
            for (int i = 0; i < 11; i++) {
                futures.add(engine.submit(i % 2 == 0 ? tile03 : tile08));
            }
            float embeddingDiff = 0;
            float headDiff = 0;
            for (int i = 0; i < futures.size(); i++) {
                TileInference out = futures.get(i).get(60, TimeUnit.SECONDS);
                String file = i % 2 == 0 ? TILE_03 : TILE_08;
                embeddingDiff =
                        Math.max(
                                embeddingDiff,
                                maxAbsDiff(out.embedding, GpfmTinyFixture.embedding(file)));
                headDiff =
                        Math.max(
                                headDiff,
                                maxAbsDiff(
                                        out.headProbabilities,
                                        GpfmTinyFixture.tissueProbabilities(file)));
            }
            System.out.printf(
                    "parity (e) batch size %d: embedding max abs diff %.3g, head %.3g%n",
                    batchSize, embeddingDiff, headDiff);
            assertThat(embeddingDiff).isLessThanOrEqualTo(TOLERANCE);
            assertThat(headDiff).isLessThanOrEqualTo(TOLERANCE);
            assertThat(engine.batcher().batchedInputs()).isEqualTo(11);
        }
    }
}
