package io.slidestream.schemas;

/**
 * Stable codes for everything that can go wrong with one slide or one event. They travel in {@code
 * SlideFailed.code}, the {@code slide_errors} table and the command line's exit message, so a code
 * is never renamed once released; new codes are appended.
 *
 * <p>Each code carries what is done with it - its {@link Disposition} - and the HTTP status the
 * service answers it with. Every place that decides whether a failure is recorded as a slide's
 * outcome or fails the job over reads it here ({@link #failsOver()}), never decides again.
 */
public enum ErrorCode {
    /** The file does not exist (or is not a regular file). */
    SLIDE_NOT_FOUND(Disposition.SLIDE_OUTCOME, 404),
    /** The path lies outside the configured allowed roots, or the file cannot be read. */
    ACCESS_DENIED(Disposition.SLIDE_OUTCOME, 403),
    /** The file exists but no OpenSlide driver recognises it (not a slide, zero bytes, ...). */
    UNSUPPORTED_FORMAT(Disposition.SLIDE_OUTCOME, 422),
    /**
     * OpenSlide recognised the file but opening or reading it failed (truncated, bad JPEG, ...).
     */
    CORRUPT_SLIDE(Disposition.SLIDE_OUTCOME, 422),
    /** The slide was read but no tile reached the tissue threshold. */
    NO_TISSUE(Disposition.SLIDE_OUTCOME, 422),
    /** The resolution of the slide could not be determined and no default was configured. */
    UNKNOWN_RESOLUTION(Disposition.SLIDE_OUTCOME, 422),
    /** The request itself is invalid (bad tile size, bad target resolution, bad URI, ...). */
    INVALID_REQUEST(Disposition.SLIDE_OUTCOME, 400),
    /** The native OpenSlide library (libopenslide.so.0) is not installed. */
    OPENSLIDE_UNAVAILABLE(Disposition.INFRASTRUCTURE, 503),
    /** The ONNX model file is missing, unreadable or does not fit the NCHW -> [N, D] contract. */
    MODEL_INVALID(Disposition.CONFIGURATION, 500),
    /** Inference failed for a tile or a batch. */
    INFERENCE_FAILED(Disposition.SLIDE_OUTCOME, 500),
    /** A tile or slide did not finish within its configured timeout. */
    TIMEOUT(Disposition.SLIDE_OUTCOME, 504),
    /** A Kafka record could not be decoded as the expected event. */
    MALFORMED_EVENT(Disposition.SLIDE_OUTCOME, 400),
    /** An unexpected failure; the message carries the cause. */
    INTERNAL(Disposition.SLIDE_OUTCOME, 500),
    /** A configuration key is missing or has a bad value; the message names the key. */
    INVALID_CONFIG(Disposition.CONFIGURATION, 400),
    /**
     * An external store (Milvus, Iceberg catalog, a Kafka broker) stayed unreachable past its
     * configured retry window, or a local store (Milvus Lite) is not installed or would not start.
     */
    STORE_UNAVAILABLE(Disposition.INFRASTRUCTURE, 503),
    /**
     * The inference engine itself failed: it could not run a known-good input either (a broken GPU,
     * a dead provider). An infrastructure failure, never a tile's or slide's: the job fails over
     * and retries instead of recording it.
     */
    ENGINE_FAILED(Disposition.INFRASTRUCTURE, 503);

    /** What the pipeline does with a failure of a code. */
    public enum Disposition {
        /**
         * The slide's (or event's) own outcome: recorded in {@code slide_errors} and the dead
         * letter, the job goes on with the next slide.
         */
        SLIDE_OUTCOME,
        /**
         * The infrastructure's: never recorded as the slide's; the job fails over to its last
         * checkpoint and the slide is processed again once the store, engine or library is back.
         */
        INFRASTRUCTURE,
        /** The configuration's: refused at start (or by the command), naming the key to change. */
        CONFIGURATION
    }

    private final Disposition disposition;
    private final int httpStatus;

    ErrorCode(Disposition disposition, int httpStatus) {
        this.disposition = disposition;
        this.httpStatus = httpStatus;
    }

    /** What is done with a failure of this code. */
    public Disposition disposition() {
        return disposition;
    }

    /** Whether a failure of this code fails the job over instead of being recorded. */
    public boolean failsOver() {
        return disposition == Disposition.INFRASTRUCTURE;
    }

    /** The HTTP status the service answers a failure of this code with. */
    public int httpStatus() {
        return httpStatus;
    }
}
