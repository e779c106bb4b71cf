package io.slidestream.aggregate;

import static io.slidestream.aggregate.TileEmbeddings.MODEL_ID;
import static io.slidestream.aggregate.TileEmbeddings.ONE_MINUTE_LATER;
import static io.slidestream.aggregate.TileEmbeddings.tile;
import static io.slidestream.aggregate.TileEmbeddings.withHead;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.inference.SlideHead;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the slide aggregate computes from a slide's tiles: mean embedding, slide-head logits,
 * softmax and prediction, top-k attention tiles and tissue composition, and which slides go to the
 * failure side output.
 *
 * <p>The slide head here is {@link FakeSlideHead}, a deterministic in-test implementation whose
 * outputs can be worked out by hand; the real ABMIL ONNX head is tested against the PyTorch
 * reference by the inference engine's tests.
 */
class SlideAggregatorTest {
    private static final int D = 5;
    private static final int CLASSES = 3;
    private static final long START = ONE_MINUTE_LATER.toEpochMilli();
    private static final float LN2 = (float) Math.log(2);
    private static final float LN5 = (float) Math.log(5);

    private KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness;

    @AfterEach
    void closeHarness() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    /**
     * Tile {@code i} of 4: first value ln(i + 1), so the fake head's attention is (i + 1) / 10;
     * values 1..3 are (0, ln 2, ln 5) on every tile, so the logits are (0, ln 2, ln 5) and the
     * probabilities (1/8, 2/8, 5/8); the last value is 10 i.
     */
    private static TileEmbedding scoredTile(int i) {
        return tile("s1", i, 4, new float[] {(float) Math.log(i + 1), 0f, LN2, LN5, 10f * i});
    }

    @Test
    void computesMeanSoftmaxTopTilesAndCompositionInPlanOrder() throws Exception {
        FakeSlideHead.Calls calls = new FakeSlideHead.Calls();
        AggregateConfig config =
                AggregateConfig.builder()
                        .set(AggregateOptions.TOP_K, 2)
                        .set(
                                AggregateOptions.TISSUE_CLASSES,
                                List.of("tumor", "stroma", "necrosis"))
                        .build();
        harness = SlideWindowHarness.open(config, FakeSlideHead.factory(D, CLASSES, calls), START);

        harness.processElement(withHead(scoredTile(2), 0.1f, 0.2f, 0.7f), 0L);
        harness.processElement(withHead(scoredTile(0), 0.8f, 0.1f, 0.1f), 0L);
        harness.processElement(withHead(scoredTile(3), 0.2f, 0.5f, 0.3f), 0L);
        harness.processElement(withHead(scoredTile(1), 0.3f, 0.3f, 0.4f), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        SlideResult result = results.get(0);

        assertThat(result.getModelId()).isEqualTo(MODEL_ID);
        assertThat(result.getMeanEmbedding()).hasSize(D);
        assertThat(result.getMeanEmbedding().get(0))
                .isCloseTo((float) (Math.log(24) / 4), within(1e-6f));
        assertThat(result.getMeanEmbedding().subList(1, D)).containsExactly(0f, LN2, LN5, 15f);

        assertThat(result.getLogits().get(0)).isCloseTo(0f, within(1e-6f));
        assertThat(result.getLogits().get(1)).isCloseTo(LN2, within(1e-6f));
        assertThat(result.getLogits().get(2)).isCloseTo(LN5, within(1e-6f));
        assertThat(result.getProbabilities().get(0)).isCloseTo(1f / 8, within(1e-6f));
        assertThat(result.getProbabilities().get(1)).isCloseTo(2f / 8, within(1e-6f));
        assertThat(result.getProbabilities().get(2)).isCloseTo(5f / 8, within(1e-6f));
        assertThat(result.getPredictedClass()).isEqualTo(2);
        assertThat(result.getPredictedLabel()).isEqualTo("label 2");
        assertThat(result.getHeadId()).isEqualTo("fake-abmil");

        assertThat(result.getTopTiles())
                .extracting(AttentionTile::getX, AttentionTile::getY)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(768L, 512L),
                        org.assertj.core.groups.Tuple.tuple(512L, 512L));
        assertThat(result.getTopTiles().get(0).getAttention()).isCloseTo(0.4f, within(1e-6f));
        assertThat(result.getTopTiles().get(1).getAttention()).isCloseTo(0.3f, within(1e-6f));
        // Every tile's attention, by tile index, whatever order the tiles arrived in.
        assertThat(result.getTileAttention()).hasSize(4);
        float[] expected = {0.1f, 0.2f, 0.3f, 0.4f};
        for (int i = 0; i < 4; i++) {
            assertThat(result.getTileAttention().get(i)).isCloseTo(expected[i], within(1e-6f));
        }

        // Tile-head argmax: tile 0 -> tumor, 1 -> necrosis, 2 -> necrosis, 3 -> stroma.
        assertThat(result.getTissueComposition())
                .extracting(ClassFraction::getLabel, ClassFraction::getFraction)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("tumor", 0.25f),
                        org.assertj.core.groups.Tuple.tuple("stroma", 0.25f),
                        org.assertj.core.groups.Tuple.tuple("necrosis", 0.5f));

        // The head got the bag once, rows in plan order although the tiles arrived shuffled.
        assertThat(calls.bags).hasSize(1);
        float[] bag = calls.bags.get(0);
        assertThat(bag).hasSize(4 * D);
        for (int i = 0; i < 4; i++) {
            assertThat(java.util.Arrays.copyOfRange(bag, i * D, (i + 1) * D))
                    .containsExactly(scoredTile(i).embedding);
        }
    }

    @Test
    void leavesPredictionEmptyWithoutSlideHead() throws Exception {
        harness = SlideWindowHarness.open(AggregateConfig.builder().build(), null, START);
        harness.processElement(scoredTile(0), 0L);
        harness.processElement(scoredTile(1), 0L);
        harness.processElement(scoredTile(2), 0L);
        harness.processElement(scoredTile(3), 0L);

        SlideResult result = harness.extractOutputValues().get(0);
        assertThat(result.getLogits()).isEmpty();
        assertThat(result.getProbabilities()).isEmpty();
        assertThat(result.getPredictedClass()).isEqualTo(-1);
        assertThat(result.getPredictedLabel()).isEmpty();
        assertThat(result.getHeadId()).isEmpty();
        assertThat(result.getTopTiles()).isEmpty();
        assertThat(result.getTileAttention()).isEmpty();
        assertThat(result.getTissueComposition()).isEmpty();
        assertThat(result.getMeanEmbedding().get(D - 1)).isEqualTo(15f);
    }

    @Test
    void namesTissueClassesByIndexWhenNoLabelsAreConfigured() throws Exception {
        harness = SlideWindowHarness.open(AggregateConfig.builder().build(), null, START);
        harness.processElement(withHead(tile("s1", 0, 2, 2), 0.6f, 0.4f), 0L);
        harness.processElement(withHead(tile("s1", 1, 2, 2), 0.6f, 0.4f), 0L);

        assertThat(harness.extractOutputValues().get(0).getTissueComposition())
                .extracting(ClassFraction::getLabel, ClassFraction::getFraction)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("class_0", 1f),
                        org.assertj.core.groups.Tuple.tuple("class_1", 0f));
    }

    @Test
    void listsOnlyTheTilesPresentWhenTopKExceedsThem() throws Exception {
        FakeSlideHead.Calls calls = new FakeSlideHead.Calls();
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder().set(AggregateOptions.TOP_K, 10).build(),
                        FakeSlideHead.factory(D, CLASSES, calls),
                        START);
        for (int i = 0; i < 4; i++) {
            harness.processElement(scoredTile(i), 0L);
        }

        assertThat(harness.extractOutputValues().get(0).getTopTiles())
                .extracting(AttentionTile::getX)
                .containsExactly(768L, 512L, 256L, 0L);
    }

    @Test
    void sendsSlideWithMixedModelsToFailedOutput() throws Exception {
        harness = SlideWindowHarness.open(AggregateConfig.builder().build(), null, START);
        harness.processElement(tile("s1", 0, 2, D), 0L);
        TileEmbedding other = tile("s1", 1, 2, D);
        other.modelId = "uni2@sha256:ffff";
        harness.processElement(other, 0L);

        assertThat(harness.extractOutputValues()).isEmpty();
        List<SlideFailed> failed = SlideWindowHarness.failures(harness);
        assertThat(failed).hasSize(1);
        assertThat(failed.get(0).getSlideId()).isEqualTo("s1");
        assertThat(failed.get(0).getCode()).isEqualTo("INTERNAL");
        assertThat(failed.get(0).getStage()).isEqualTo(SlideAggregator.STAGE);
        assertThat(failed.get(0).getUri()).isEqualTo("file:///slides/s1.svs");
        assertThat(failed.get(0).getMessage()).contains("uni2@sha256:ffff").contains(MODEL_ID);
        assertThat(failed.get(0).getFailedAt()).isEqualTo(ONE_MINUTE_LATER);
    }

    @Test
    void sendsSlideToFailedOutputWhenHeadExpectsAnotherDimension() throws Exception {
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder().build(),
                        FakeSlideHead.factory(1024, CLASSES, new FakeSlideHead.Calls()),
                        START);
        harness.processElement(scoredTile(0), 0L);
        harness.processElement(scoredTile(1), 0L);
        harness.processElement(scoredTile(2), 0L);
        harness.processElement(scoredTile(3), 0L);

        assertThat(harness.extractOutputValues()).isEmpty();
        SlideFailed failed = SlideWindowHarness.failures(harness).get(0);
        assertThat(failed.getCode()).isEqualTo("MODEL_INVALID");
        assertThat(failed.getMessage()).contains("1024").contains("have 5");
    }

    @Test
    void sendsSlideToFailedOutputWhenTileHeadClassesDoNotMatchLabels() throws Exception {
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder()
                                .set(AggregateOptions.TISSUE_CLASSES, List.of("tumor", "other"))
                                .build(),
                        null,
                        START);
        harness.processElement(withHead(tile("s1", 0, 1, 2), 0.2f, 0.3f, 0.5f), 0L);

        SlideFailed failed = SlideWindowHarness.failures(harness).get(0);
        assertThat(failed.getCode()).isEqualTo("MODEL_INVALID");
        assertThat(failed.getMessage())
                .contains("aggregate.tissue-classes")
                .contains("tumor;other");
    }

    @Test
    void sendsSlideToFailedOutputWhenHeadFails() throws Exception {
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder().build(), FailingSlideHead::new, START);
        harness.processElement(scoredTile(0), 0L);
        harness.setProcessingTime(START + AggregateOptions.SLIDE_TIMEOUT.defaultValue().toMillis());

        assertThat(harness.extractOutputValues()).isEmpty();
        SlideFailed failed = SlideWindowHarness.failures(harness).get(0);
        assertThat(failed.getCode()).isEqualTo("INFERENCE_FAILED");
        assertThat(failed.getMessage()).contains("session closed");
    }

    @Test
    void opensSlideHeadOnOpenAndClosesItOnClose() throws Exception {
        FakeSlideHead.Calls calls = new FakeSlideHead.Calls();
        harness =
                SlideWindowHarness.open(
                        AggregateConfig.builder().build(),
                        FakeSlideHead.factory(D, CLASSES, calls),
                        START);
        assertThat(calls.opened).isEqualTo(1);
        assertThat(calls.closed).isZero();

        harness.close();
        harness = null;

        assertThat(calls.closed).isEqualTo(1);
    }

    /** A head whose session has gone away. */
    private static final class FailingSlideHead implements SlideHead {
        @Override
        public Output predict(float[] embeddings, int tileCount) {
            throw new IllegalStateException("session closed");
        }

        @Override
        public int dimension() {
            return D;
        }

        @Override
        public void close() {}
    }
}
