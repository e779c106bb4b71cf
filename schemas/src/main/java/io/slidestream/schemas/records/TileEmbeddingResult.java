package io.slidestream.schemas.records;

import io.slidestream.schemas.ErrorCode;
import java.util.Objects;

/**
 * What the embed stage emits for one tile: either its {@link TileEmbedding} or the reason it has
 * none (inference failed, timed out). An asynchronous Flink function cannot write to a side output,
 * so success and failure travel in one record and a router right after the async operator splits
 * them: embeddings go on to the sinks and the slide window, failures to the failure path, where
 * they still count towards the slide's {@code tileCount} so the slide can complete.
 *
 * <p>Exactly one of {@link #embedding} and {@link #errorCode} is set. {@link #task} is always set.
 * A Flink POJO: public no-arg constructor, public mutable fields.
 */
public class TileEmbeddingResult {
    /** The tile this result is for (coordinates, slide, plan index). */
    public TileTask task;

    /** The embedding, or null when the tile failed. */
    public TileEmbedding embedding;

    /** Why the tile has no embedding ({@code INFERENCE_FAILED}, {@code TIMEOUT}), or null. */
    public ErrorCode errorCode;

    /** What went wrong and what to do, or null on success. */
    public String errorMessage;

    public TileEmbeddingResult() {}

    public static TileEmbeddingResult success(TileTask task, TileEmbedding embedding) {
        TileEmbeddingResult r = new TileEmbeddingResult();
        r.task = Objects.requireNonNull(task, "task");
        r.embedding = Objects.requireNonNull(embedding, "embedding");
        return r;
    }

    public static TileEmbeddingResult failure(TileTask task, ErrorCode code, String message) {
        TileEmbeddingResult r = new TileEmbeddingResult();
        r.task = Objects.requireNonNull(task, "task");
        r.errorCode = Objects.requireNonNull(code, "code");
        r.errorMessage = Objects.requireNonNull(message, "message");
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
                && Objects.equals(errorMessage, r.errorMessage);
    }

    @Override
    public int hashCode() {
        return Objects.hash(task, errorCode);
    }

    @Override
    public String toString() {
        return succeeded()
                ? "TileEmbeddingResult{" + embedding + "}"
                : "TileEmbeddingResult{" + task + " " + errorCode + ": " + errorMessage + "}";
    }
}
