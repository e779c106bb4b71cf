package io.slidestream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RetrievalEvaluationTest {

    // Classes A (0), B (1), C (2) in two dimensions, two train tiles each.
    static final float[][] TRAIN = {{0, 0}, {0, 1}, {10, 0}, {10, 1}, {0, 10}, {1, 10}};
    static final int[] TRAIN_LABELS = {0, 0, 1, 1, 2, 2};

    @Test
    void votesByRankAndAveragesPerClass() {
        // a and b lie in their classes; c (labelled C) lies among the B tiles: its 3 nearest are
        // B, B, A - votes B 1 + 1/2, A 1/3, C 0 - so C ranks third.
        float[][] test = {{0, 0.5f}, {10, 0.5f}, {9, 0}};
        int[] labels = {0, 1, 2};
        List<RetrievalEvaluation.Accuracy> result =
                RetrievalEvaluation.evaluate(
                        TRAIN, TRAIN_LABELS, test, labels, 3, new int[] {1, 2, 3}, 1000, 7);
        assertThat(result.get(0).value()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(result.get(1).value()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(result.get(2).value()).isEqualTo(1.0);
        // Resampling three tiles: the top-1 macro accuracy is 0, 1/2, 2/3 or 1 in a resample.
        assertThat(result.get(0).low()).isLessThanOrEqualTo(result.get(0).value());
        assertThat(result.get(0).high()).isEqualTo(1.0);
        assertThat(result.get(2).low()).isEqualTo(1.0);
    }

    @Test
    void macroAveragingWeighsEachClassEquallyWhateverItsSize() {
        // Four A tests, all right; one B test, wrong: micro 4/5, macro (1 + 0) / 2.
        float[][] test = {{0, 0}, {0, 1}, {0, 0.2f}, {0, 0.8f}, {0, 9}};
        int[] labels = {0, 0, 0, 0, 1};
        List<RetrievalEvaluation.Accuracy> result =
                RetrievalEvaluation.evaluate(
                        TRAIN, TRAIN_LABELS, test, labels, 3, new int[] {1}, 0, 1);
        assertThat(result.get(0).value()).isEqualTo(0.5);
    }
}
