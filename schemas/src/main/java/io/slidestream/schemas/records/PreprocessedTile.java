package io.slidestream.schemas.records;

/**
 * A tile task with its model input: CHW float32 pixels, already resized and normalised. It only
 * travels between the chained read and embed operators (never over the network), so it carries the
 * tensor by reference.
 */
public class PreprocessedTile {
    public TileTask task;

    /** CHW float32, {@code 3 * inputSize * inputSize} values. */
    public float[] chw;

    public PreprocessedTile() {}

    public PreprocessedTile(TileTask task, float[] chw) {
        this.task = task;
        this.chw = chw;
    }
}
