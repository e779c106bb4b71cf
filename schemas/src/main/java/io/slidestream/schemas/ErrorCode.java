package io.slidestream.schemas;

/**
 * Stable codes for everything that can go wrong with one slide or one event. They travel in {@code
 * SlideFailed.code}, the {@code slide_errors} table and the command line's exit message, so a code
 * is never renamed once released; new codes are appended.
 */
public enum ErrorCode {
    /** The file does not exist (or is not a regular file). */
    SLIDE_NOT_FOUND,
    /** The path lies outside the configured allowed roots, or the file cannot be read. */
    ACCESS_DENIED,
    /** The file exists but no OpenSlide driver recognises it (not a slide, zero bytes, ...). */
    UNSUPPORTED_FORMAT,
    /**
     * OpenSlide recognised the file but opening or reading it failed (truncated, bad JPEG, ...).
     */
    CORRUPT_SLIDE,
    /** The slide was read but no tile reached the tissue threshold. */
    NO_TISSUE,
    /** The resolution of the slide could not be determined and no default was configured. */
    UNKNOWN_RESOLUTION,
    /** The request itself is invalid (bad tile size, bad target resolution, bad URI, ...). */
    INVALID_REQUEST,
    /** The native OpenSlide library (libopenslide.so.0) is not installed. */
    OPENSLIDE_UNAVAILABLE,
    /** The ONNX model file is missing, unreadable or does not fit the NCHW -> [N, D] contract. */
    MODEL_INVALID,
    /** Inference failed for a tile or a batch. */
    INFERENCE_FAILED,
    /** A tile or slide did not finish within its configured timeout. */
    TIMEOUT,
    /** A Kafka record could not be decoded as the expected event. */
    MALFORMED_EVENT,
    /** An unexpected failure; the message carries the cause. */
    INTERNAL,
    /** A configuration key is missing or has a bad value; the message names the key. */
    INVALID_CONFIG,
    /**
     * An external store (Milvus, Iceberg catalog) stayed unreachable past its configured retry
     * window, or a local store (Milvus Lite) is not installed or would not start.
     */
    STORE_UNAVAILABLE,
    /**
     * The inference engine itself failed: it could not run a known-good input either (a broken GPU,
     * a dead provider). An infrastructure failure, never a tile's or slide's: the job fails over
     * and retries instead of recording it.
     */
    ENGINE_FAILED
}
