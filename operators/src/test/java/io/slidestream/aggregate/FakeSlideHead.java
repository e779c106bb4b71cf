package io.slidestream.aggregate;

import io.slidestream.inference.SlideHead;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deterministic stand-in for the ABMIL slide head, so that the aggregate's own arithmetic can be
 * checked by hand: attention is the softmax over tiles of each tile's first embedding value, and
 * logit {@code c} is the attention-weighted sum of embedding value {@code 1 + c}. The real ONNX
 * ABMIL head is tested against PyTorch by the inference engine's tests.
 */
final class FakeSlideHead implements SlideHead {
    private final int dimension;
    private final int classes;
    private final Calls calls;

    FakeSlideHead(int dimension, int classes, Calls calls) {
        this.dimension = dimension;
        this.classes = classes;
        this.calls = calls;
        calls.opened++;
    }

    /** A serializable factory whose heads record into {@code calls}. */
    static SlideHeadFactory factory(int dimension, int classes, Calls calls) {
        return () -> new FakeSlideHead(dimension, classes, calls);
    }

    @Override
    public Output predict(float[] embeddings, int tileCount) {
        if (calls.keepBags) {
            calls.bags.add(Arrays.copyOf(embeddings, embeddings.length));
        }
        calls.predictions++;
        double[] weights = new double[tileCount];
        double total = 0;
        for (int i = 0; i < tileCount; i++) {
            weights[i] = Math.exp(embeddings[i * dimension]);
            total += weights[i];
        }
        float[] attention = new float[tileCount];
        float[] logits = new float[classes];
        for (int i = 0; i < tileCount; i++) {
            attention[i] = (float) (weights[i] / total);
            for (int c = 0; c < classes; c++) {
                logits[c] += attention[i] * embeddings[i * dimension + 1 + c];
            }
        }
        return new Output(logits, attention);
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public String headId() {
        return "fake-abmil";
    }

    @Override
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add("label " + c);
        }
        return names;
    }

    @Override
    public void close() {
        calls.closed++;
    }

    /** What the heads of one test saw; shared because the harness runs the operator in-process. */
    static final class Calls implements Serializable {
        private static final long serialVersionUID = 1L;
        int opened;
        int closed;
        int predictions;

        /** Whether to keep a copy of every bag (off for 60 MB bags). */
        boolean keepBags = true;

        final List<float[]> bags = new ArrayList<>();
    }
}
