package io.slidestream.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * GPFM's ROI-retrieval protocol on embeddings: every embedding is z-scored with the train split's
 * per-dimension mean and standard deviation; each test embedding retrieves its {@code k} nearest
 * train embeddings by Euclidean distance, with {@code k} = the number of classes; the retrieved
 * labels vote with weight {@code 1 / rank} (rank 1 = nearest), which orders the classes; a test
 * tile is correct at top-{@code n} when its label is among the {@code n} classes with the most
 * votes (classes without votes rank last, by index). Accuracies are macro-averaged (the mean of the
 * per-class accuracies), and each comes with the 2.5th and 97.5th percentiles of 1,000 bootstrap
 * resamples of the test set (sampled with replacement, same size).
 */
public final class RetrievalEvaluation {

    /** One accuracy with its bootstrap interval. */
    public record Accuracy(int topN, double value, double low, double high) {}

    private RetrievalEvaluation() {}

    /**
     * @param train train embeddings, one per row
     * @param trainLabels class index of each train row
     * @param test test embeddings
     * @param testLabels class index of each test row
     * @param classes number of classes
     * @param topNs the n of each top-n accuracy (e.g. 1, 3, 5)
     */
    public static List<Accuracy> evaluate(
            float[][] train,
            int[] trainLabels,
            float[][] test,
            int[] testLabels,
            int classes,
            int[] topNs,
            int bootstraps,
            long seed) {
        int dimension = train[0].length;
        double[] mean = new double[dimension];
        double[] std = new double[dimension];
        for (float[] v : train) {
            for (int d = 0; d < dimension; d++) {
                mean[d] += v[d];
            }
        }
        for (int d = 0; d < dimension; d++) {
            mean[d] /= train.length;
        }
        for (float[] v : train) {
            for (int d = 0; d < dimension; d++) {
                std[d] += (v[d] - mean[d]) * (v[d] - mean[d]);
            }
        }
        for (int d = 0; d < dimension; d++) {
            std[d] = Math.sqrt(std[d] / train.length);
            if (std[d] < 1e-12) {
                std[d] = 1; // A constant dimension carries no information either way.
            }
        }
        double[][] z = zscore(train, mean, std);
        double[][] q = zscore(test, mean, std);
        int k = Math.min(classes, train.length);
        // rankOfTruth[i]: the position (1-based) of test i's label in its vote order.
        int[] rankOfTruth = new int[test.length];
        for (int i = 0; i < test.length; i++) {
            rankOfTruth[i] = rankOfTruth(q[i], z, trainLabels, classes, k, testLabels[i]);
        }
        List<Accuracy> out = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed);
        int[][] samples = new int[bootstraps][test.length];
        for (int b = 0; b < bootstraps; b++) {
            for (int i = 0; i < test.length; i++) {
                samples[b][i] = random.nextInt(test.length);
            }
        }
        int[] all = new int[test.length];
        Arrays.setAll(all, i -> i);
        for (int n : topNs) {
            double value = macro(all, rankOfTruth, testLabels, classes, n);
            double[] boot = new double[bootstraps];
            for (int b = 0; b < bootstraps; b++) {
                boot[b] = macro(samples[b], rankOfTruth, testLabels, classes, n);
            }
            Arrays.sort(boot);
            out.add(
                    new Accuracy(
                            n,
                            value,
                            bootstraps == 0
                                    ? value
                                    : boot[(int) Math.floor(0.025 * (bootstraps - 1))],
                            bootstraps == 0
                                    ? value
                                    : boot[(int) Math.ceil(0.975 * (bootstraps - 1))]));
        }
        return out;
    }

    /** Mean over classes present in {@code sample} of the fraction correct at top-{@code n}. */
    private static double macro(int[] sample, int[] rankOfTruth, int[] labels, int classes, int n) {
        int[] total = new int[classes];
        int[] correct = new int[classes];
        for (int i : sample) {
            total[labels[i]]++;
            if (rankOfTruth[i] <= n) {
                correct[labels[i]]++;
            }
        }
        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            if (total[c] > 0) {
                sum += (double) correct[c] / total[c];
                present++;
            }
        }
        return sum / present;
    }

    private static int rankOfTruth(
            double[] query, double[][] train, int[] labels, int classes, int k, int truth) {
        int[] nearest = new int[k];
        double[] distance = new double[k];
        Arrays.fill(distance, Double.POSITIVE_INFINITY);
        for (int j = 0; j < train.length; j++) {
            double d = 0;
            for (int x = 0; x < query.length; x++) {
                double diff = query[x] - train[j][x];
                d += diff * diff;
            }
            if (d < distance[k - 1]) {
                int p = k - 1;
                while (p > 0 && distance[p - 1] > d) {
                    distance[p] = distance[p - 1];
                    nearest[p] = nearest[p - 1];
                    p--;
                }
                distance[p] = d;
                nearest[p] = j;
            }
        }
        double[] votes = new double[classes];
        for (int r = 0; r < k; r++) {
            votes[labels[nearest[r]]] += 1.0 / (r + 1);
        }
        // Position of the truth: classes with more votes, or as many and a lower index, go first.
        int rank = 1;
        for (int c = 0; c < classes; c++) {
            if (votes[c] > votes[truth] || (votes[c] == votes[truth] && c < truth)) {
                rank++;
            }
        }
        return rank;
    }

    private static double[][] zscore(float[][] vectors, double[] mean, double[] std) {
        double[][] out = new double[vectors.length][mean.length];
        for (int i = 0; i < vectors.length; i++) {
            for (int d = 0; d < mean.length; d++) {
                out[i][d] = (vectors[i][d] - mean[d]) / std[d];
            }
        }
        return out;
    }
}
