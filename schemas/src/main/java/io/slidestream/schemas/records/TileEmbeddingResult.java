package io.slidestream.schemas.records;

import io.slidestream.schemas.ErrorCode;
import java.util.Objects;

/**
 * What the embed stage emits for one tile: either its {@link TileEmbedding} or the reason it has
 * none (the slide could not be read, inference failed, timed out). An asynchronous Flink function
 * cannot write to a side output, so success and failure travel in one record and a router right
 * after the async operator splits them: embeddings go on to the sinks and the slide window,
 * failures to the failure path, where they still count towards the slide's {@code tileCount} so the
 * slide can complete.
 *
 * <p>Exactly one of {@link #embedding} and {@link #errorCode} is set. {@link #task} is always set.
 * A Flink POJO: public no-arg constructor, public mutable fields.
 */
public class TileEmbeddingResult {
    /** The tile this result is for (coordinates, slide, plan index). */
    public TileTask task;

    /** The embedding, or null when the tile failed. */
    public TileEmbedding embedding;

    /** The {@code SlideFailed.stage} of a tile that failed while reading its slide. */
    public static final String STAGE_READ = "read";

    /** The {@code SlideFailed.stage} of a tile that was read but not embedded. */
    public static final String STAGE_EMBED = "embed";

    /**
     * Why the tile has no embedding ({@code CORRUPT_SLIDE}, {@code INFERENCE_FAILED}, {@code
     * TIMEOUT}, ...), or null.
     */
    public ErrorCode errorCode;

    /** What went wrong and what to do, or null on success. */
    public String errorMessage;

    /** Where the tile failed: {@link #STAGE_READ} or {@link #STAGE_EMBED}; null on success. */
    public String stage;

    /**
     * True for a tile that was not even read because its slide had already failed to read: it
     * accounts for the tile in the slide's window like any failure, but is no new dead-letter
     * record (the slide's first failed tile was).
     */
    public boolean skipped;

    public TileEmbeddingResult() {}

    public static TileEmbeddingResult success(TileTask task, TileEmbedding embedding) {
        TileEmbeddingResult r = new TileEmbeddingResult();
        r.task = Objects.requireNonNull(task, "task");
        r.embedding = Objects.requireNonNull(embedding, "embedding");
        return r;
    }

    /** A tile that was read but not embedded (stage {@link #STAGE_EMBED}). */
    public static TileEmbeddingResult failure(TileTask task, ErrorCode code, String message) {
        return failure(task, code, message, STAGE_EMBED, false);
    }

    /** A tile whose slide failed to read it (stage {@link #STAGE_READ}); a dead-letter record. */
    public static TileEmbeddingResult readFailure(TileTask task, ErrorCode code, String message) {
        return failure(task, code, message, STAGE_READ, false);
    }

    /**
     * A tile skipped because its slide already failed to read with {@code code}: a failure that
     * closes the tile in the slide's window but is not reported again.
     */
    public static TileEmbeddingResult skipped(TileTask task, ErrorCode code) {
        return failure(
                task,
                code,
                "not read: an earlier tile of this slide already failed with " + code,
                STAGE_READ,
                true);
    }

    private static TileEmbeddingResult failure(
            TileTask task, ErrorCode code, String message, String stage, boolean skipped) {
        TileEmbeddingResult r = new TileEmbeddingResult();
        r.task = Objects.requireNonNull(task, "task");
        r.errorCode = Objects.requireNonNull(code, "code");
        r.errorMessage = Objects.requireNonNull(message, "message");
        r.stage = stage;
        r.skipped = skipped;
        return r;
    }

    /** True when this result carries an embedding. */
    public boolean succeeded() {
        return embedding != null;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TileEmbeddingResult)) {
            return false;
        }
        TileEmbeddingResult r = (TileEmbeddingResult) o;
        return Objects.equals(task, r.task)
                && Objects.equals(embedding, r.embedding)
                && errorCode == r.errorCode
                && Objects.equals(errorMessage, r.errorMessage)
                && Objects.equals(stage, r.stage)
                && skipped == r.skipped;
    }

    @Override
    public int hashCode() {
        return Objects.hash(task, errorCode);
    }

    @Override
    public String toString() {
        return succeeded()
                ? "TileEmbeddingResult{" + embedding + "}"
                : "TileEmbeddingResult{"
                        + task
                        + " "
                        + stage
                        + (skipped ? " skipped " : " ")
                        + errorCode
                        + ": "
                        + errorMessage
                        + "}";
    }
}
