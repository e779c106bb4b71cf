package io.slidestream.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SlideStatisticsTest {

    @Test
    void ranksTopTilesHighestFirstAndLowerIndexFirstOnTies() {
        float[] scores = {0.1f, 0.4f, 0.2f, 0.4f, 0.05f, 0.2f};

        assertThat(SlideStatistics.topK(scores, 4)).containsExactly(1, 3, 2, 5);
        assertThat(SlideStatistics.topK(scores, 1)).containsExactly(1);
        assertThat(SlideStatistics.topK(scores, 0)).isEmpty();
        assertThat(SlideStatistics.topK(scores, 99)).containsExactly(1, 3, 2, 5, 0, 4);
    }

    @Test
    void selectsTheSameTopTilesAsAFullSort() {
        Random random = new Random(42);
        float[] scores = new float[15_000];
        for (int i = 0; i < scores.length; i++) {
            // Few distinct values, so that ties are common.
            scores[i] = random.nextInt(500) / 500f;
        }
        int[] expected =
                IntStream.range(0, scores.length)
                        .boxed()
                        .sorted(
                                Comparator.<Integer>comparingDouble(i -> -scores[i])
                                        .thenComparingInt(i -> i))
                        .limit(64)
                        .mapToInt(Integer::intValue)
                        .toArray();

        assertThat(SlideStatistics.topK(scores, 64)).containsExactly(expected);
    }

    @Test
    void softmaxStaysFiniteForLargeLogits() {
        // exp(1000) overflows a double: only the shift by the maximum keeps this finite.
        float[] p = SlideStatistics.softmax(new float[] {1000f, 1000f, 999f});

        double total = 2 + Math.exp(-1);
        assertThat(p[0]).isCloseTo((float) (1 / total), within(1e-6f));
        assertThat(p[1]).isCloseTo((float) (1 / total), within(1e-6f));
        assertThat(p[2]).isCloseTo((float) (Math.exp(-1) / total), within(1e-6f));
        assertThat(SlideStatistics.softmax(new float[0])).isEmpty();
    }

    @Test
    void takesTheFirstOfEqualMaximaAsArgmax() {
        assertThat(SlideStatistics.argmax(new float[] {0.2f, 0.5f, 0.5f})).isEqualTo(1);
        assertThat(SlideStatistics.argmax(new float[0])).isEqualTo(-1);
    }

    @Test
    void countsClassSharesOverTilesWithTileHeadOutputOnly() {
        float[] shares = SlideStatistics.shares(new int[] {0, 2, -1, 2, 2}, 3);

        assertThat(shares).containsExactly(0.25f, 0f, 0.75f);
        assertThat(SlideStatistics.shares(new int[] {-1}, 2)).containsExactly(0f, 0f);
    }

    @Test
    void averagesInDoubleSoThatLargeBagsKeepTheirPrecision() {
        float[][] rows = new float[15_000][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new float[] {1e4f + (i % 2 == 0 ? 0.001f : -0.001f), i};
        }

        float[] mean = SlideStatistics.mean(rows, 2);

        assertThat(mean[0]).isCloseTo(1e4f, within(1e-3f));
        assertThat(mean[1]).isEqualTo(7499.5f);
    }
}
