package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A small ONNX classifier over tile embeddings ({@code inference.tile-head-path}: [N, D] -> [N,
 * C]), for example a tissue-type head. The shared tile engine runs it on the batching thread right
 * after the embedding model, on the same batch, and its outputs fill {@code
 * TileEmbedding.headProbabilities} as the model gives them (an exported head ends in its softmax).
 * Synchronised: one reused input buffer.
 */
public final class TileHeadClassifier implements AutoCloseable {
    private final OnnxModel model;
    private final String outputName;
    private final int dimension;
    private final int classes;

    private TileHeadClassifier(OnnxModel model) {
        this.model = model;
        long[] in = model.inputShape();
        this.outputName = model.outputNames().get(0);
        long[] out = model.outputShape(outputName);
        if (in.length != 2
                || in[1] <= 0
                || !model.isFloatInput()
                || out == null
                || out.length != 2
                || out[0] != in[0]
                || out[1] <= 0
                || !model.isFloatOutput(outputName)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "tile head "
                            + model.path()
                            + " does not fit: expected input [N, D] and output [N, C] (float32 or"
                            + " float16, the same N, fixed D and C); found input "
                            + model.describeInput()
                            + ", outputs "
                            + model.describeOutputs());
        }
        this.dimension = (int) in[1];
        this.classes = (int) out[1];
    }

    public static TileHeadClassifier open(Path path, InferenceConfig config) {
        OnnxModel model = OnnxModel.load(path, config);
        try {
            return new TileHeadClassifier(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** One probability row of length {@link #classes()} per embedding, in order. */
    public synchronized float[][] classify(float[][] embeddings) {
        int n = embeddings.length;
        if (n == 0) {
            return new float[0][];
        }
        FloatBuffer buf = model.input(n * dimension);
        for (float[] e : embeddings) {
            if (e.length != dimension) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "tile head "
                                + model.path().getFileName()
                                + " takes D="
                                + dimension
                                + " but got an embedding of "
                                + e.length);
            }
            buf.put(e);
        }
        float[] out = model.run(new long[] {n, dimension}, List.of(outputName)).get(0).values;
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = Arrays.copyOfRange(out, i * classes, (i + 1) * classes);
        }
        return rows;
    }

    public int dimension() {
        return dimension;
    }

    public int classes() {
        return classes;
    }

    @Override
    public void close() {
        model.close();
    }
}
