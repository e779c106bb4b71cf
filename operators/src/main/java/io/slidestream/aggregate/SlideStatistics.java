package io.slidestream.aggregate;

/**
 * The arithmetic of the slide aggregate on primitive arrays: mean embedding, softmax, argmax, top-k
 * selection and class shares. Hand-written because each is a few lines over {@code float[]} and the
 * libraries at hand (Commons Math, ND4J) would box or copy 60 MB bags.
 */
public final class SlideStatistics {

    private SlideStatistics() {}

    /**
     * The mean of {@code rows} row vectors of length {@code dimension} given as separate arrays.
     * Sums in double: a float sum over 15,000 tiles would lose about four significant digits.
     */
    static float[] mean(float[][] rows, int dimension) {
        double[] sum = new double[dimension];
        for (float[] row : rows) {
            for (int j = 0; j < dimension; j++) {
                sum[j] += row[j];
            }
        }
        float[] mean = new float[dimension];
        for (int j = 0; j < dimension; j++) {
            mean[j] = (float) (sum[j] / rows.length);
        }
        return mean;
    }

    /** Softmax of {@code logits}, shifted by the maximum so that large logits do not overflow. */
    public static float[] softmax(float[] logits) {
        float[] p = new float[logits.length];
        if (logits.length == 0) {
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double total = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            total += e[i];
        }
        for (int i = 0; i < logits.length; i++) {
            p[i] = (float) (e[i] / total);
        }
        return p;
    }

    /** Index of the largest value (the first of equal ones), or -1 for an empty array. */
    public static int argmax(float[] values) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (best < 0 || values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Indices of the {@code k} largest {@code scores}, largest first; of equal scores the lower
     * index comes first. O(n log k) with a min-heap of indices, no boxing.
     */
    public static int[] topK(float[] scores, int k) {
        int size = Math.min(k, scores.length);
        if (size <= 0) {
            return new int[0];
        }
        // heap[0] is the weakest of the kept indices.
        int[] heap = new int[size];
        int used = 0;
        for (int i = 0; i < scores.length; i++) {
            if (used < size) {
                heap[used] = i;
                siftUp(heap, used++, scores);
            } else if (weaker(heap[0], i, scores)) {
                heap[0] = i;
                siftDown(heap, size, scores);
            }
        }
        int[] top = new int[size];
        for (int n = size; n > 0; n--) {
            top[n - 1] = heap[0];
            heap[0] = heap[n - 1];
            siftDown(heap, n - 1, scores);
        }
        return top;
    }

    /**
     * Share of the tiles with a class (entries >= 0) that have each class; entries of -1 (no
     * tile-head output) are left out.
     */
    static float[] shares(int[] classes, int classCount) {
        int[] counts = new int[classCount];
        int total = 0;
        for (int c : classes) {
            if (c >= 0) {
                counts[c]++;
                total++;
            }
        }
        float[] shares = new float[classCount];
        for (int c = 0; c < classCount && total > 0; c++) {
            shares[c] = (float) counts[c] / total;
        }
        return shares;
    }

    /** True when index {@code a} ranks below index {@code b}: a lower score, or a later index. */
    private static boolean weaker(int a, int b, float[] scores) {
        int cmp = Float.compare(scores[a], scores[b]);
        return cmp < 0 || (cmp == 0 && a > b);
    }

    private static void siftUp(int[] heap, int at, float[] scores) {
        while (at > 0) {
            int parent = (at - 1) >>> 1;
            if (!weaker(heap[at], heap[parent], scores)) {
                return;
            }
            swap(heap, at, parent);
            at = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] scores) {
        int at = 0;
        while (true) {
            int left = 2 * at + 1;
            if (left >= size) {
                return;
            }
            int right = left + 1;
            int weakest = right < size && weaker(heap[right], heap[left], scores) ? right : left;
            if (!weaker(heap[weakest], heap[at], scores)) {
                return;
            }
            swap(heap, at, weakest);
            at = weakest;
        }
    }

    private static void swap(int[] heap, int i, int j) {
        int t = heap[i];
        heap[i] = heap[j];
        heap[j] = t;
    }
}
