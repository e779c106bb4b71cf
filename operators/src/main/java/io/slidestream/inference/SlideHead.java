package io.slidestream.inference;

/**
 * A slide-level model over a bag of tile embeddings (GPFM evaluates slide tasks with ABMIL). The
 * production implementation runs an ONNX model; the slide aggregate calls it once per slide.
 */
public interface SlideHead extends AutoCloseable {

    /**
     * Runs the head on a bag of {@code tileCount} embeddings stored row-major in {@code embeddings}
     * ({@code tileCount * dimension} values).
     */
    Output predict(float[] embeddings, int tileCount);

    /** The embedding dimension D the head expects. */
    int dimension();

    /** The id its predictions record ({@link HeadCard#identify}); empty when it has none. */
    default String headId() {
        return "";
    }

    /** The name of each class, by index; empty when the head names none. */
    default java.util.List<String> classNames() {
        return java.util.List.of();
    }

    @Override
    void close();

    /** Slide logits (one per class) and one attention weight per tile (softmax over the bag). */
    final class Output {
        public final float[] logits;
        public final float[] attention;

        public Output(float[] logits, float[] attention) {
            this.logits = logits;
            this.attention = attention;
        }
    }
}
