package io.slidestream.inference;

import static io.slidestream.inference.GpfmTinyFixture.TOLERANCE;
import static io.slidestream.inference.GpfmTinyFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parity (c) and (d): the tissue head and the ABMIL slide head against the PyTorch reference. */
class HeadsParityTest {

    private static final InferenceConfig CPU = GpfmTinyFixture.config(1).build();

    @Test
    void tissueHeadGivesTheReferenceProbabilitiesForEveryTile() {
        List<String> files = GpfmTinyFixture.abmilBag();
        float[][] embeddings = new float[files.size()][];
        for (int i = 0; i < embeddings.length; i++) {
            embeddings[i] = GpfmTinyFixture.embedding(files.get(i));
        }
        try (TileHeadClassifier head = TileHeadClassifier.open(GpfmTinyFixture.tissueHead(), CPU)) {
            assertThat(head.dimension()).isEqualTo(256);
            assertThat(head.classes()).isEqualTo(9);
            float[][] probabilities = head.classify(embeddings);
            float worst = 0;
            for (int i = 0; i < embeddings.length; i++) {
                worst =
                        Math.max(
                                worst,
                                maxAbsDiff(
                                        probabilities[i],
                                        GpfmTinyFixture.tissueProbabilities(files.get(i))));
            }
            System.out.printf(
                    "parity (c) tissue head max abs diff over %d tiles: %.3g%n",
                    files.size(), worst);
            assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void abmilGivesTheReferenceLogitsAndAttentionOnTheReferenceBag() {
        List<String> bag = GpfmTinyFixture.abmilBag();
        try (OnnxSlideHead head = OnnxSlideHead.open(GpfmTinyFixture.abmil(), CPU)) {
            float[] features = new float[bag.size() * head.dimension()];
            for (int i = 0; i < bag.size(); i++) {
                System.arraycopy(
                        GpfmTinyFixture.embedding(bag.get(i)),
                        0,
                        features,
                        i * head.dimension(),
                        head.dimension());
            }
            SlideHead.Output out = head.predict(features, bag.size());

            float logitsDiff = maxAbsDiff(out.logits, GpfmTinyFixture.abmilLogits());
            float attentionDiff = maxAbsDiff(out.attention, GpfmTinyFixture.abmilAttention());
            System.out.printf(
                    "parity (d) ABMIL max abs diff: logits %.3g, attention %.3g%n",
                    logitsDiff, attentionDiff);
            assertThat(head.classes()).isEqualTo(2);
            assertThat(head.logitsOutput()).isEqualTo("logits");
            assertThat(head.attentionOutput()).isEqualTo("attention");
            assertThat(logitsDiff).isLessThanOrEqualTo(TOLERANCE);
            assertThat(attentionDiff).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void slideHeadRefusesABagWhoseSizeDoesNotMatchTheTileCount() {
        try (OnnxSlideHead head = OnnxSlideHead.open(GpfmTinyFixture.abmil(), CPU)) {
            assertThatThrownBy(() -> head.predict(new float[3 * 256 - 1], 3))
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                                assertThat(e.getMessage()).contains("3 tiles needs 768 values");
                            });
        }
    }

    @Test
    void refusesAnEmbeddingModelAsSlideHeadOrTileHead() {
        assertThatThrownBy(() -> OnnxSlideHead.open(GpfmTinyFixture.model(), CPU))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID);
                            assertThat(e.getMessage())
                                    .contains("expected input [tiles, D]")
                                    .contains("found input input [batch, 3, 224, 224] float32");
                        });
        assertThatThrownBy(() -> TileHeadClassifier.open(GpfmTinyFixture.abmil(), CPU))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e ->
                                assertThat(e.getMessage())
                                        .contains("expected input [N, D] and output [N, C]"));
    }
}
