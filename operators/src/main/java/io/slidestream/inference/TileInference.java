package io.slidestream.inference;

/** The model outputs for one tile: its embedding and the tile-head row (empty without a head). */
public final class TileInference {
    private static final float[] NO_HEAD = new float[0];

    public final float[] embedding;
    public final float[] headProbabilities;

    public TileInference(float[] embedding, float[] headProbabilities) {
        this.embedding = embedding;
        this.headProbabilities = headProbabilities == null ? NO_HEAD : headProbabilities;
    }
}
