package io.slidestream.schemas.serde;

import io.slidestream.schemas.ErrorCode;

/**
 * An event value that could not be decoded, or that decoded but breaks the event's rules (blank id,
 * invalid uri). Checked on purpose: every caller that decodes bytes from outside decides what
 * happens to a bad value (the Kafka source turns it into a {@code SlideFailed} dead letter), so
 * garbage never surfaces as an unchecked crash.
 *
 * <p>The code is always {@link ErrorCode#MALFORMED_EVENT}; the message says what was wrong.
 */
public final class MalformedEventException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedEventException(String message) {
        super(message);
    }

    public MalformedEventException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Always {@link ErrorCode#MALFORMED_EVENT}. */
    public ErrorCode code() {
        return ErrorCode.MALFORMED_EVENT;
    }

    /** {@code MALFORMED_EVENT: message}, the form the command line and dead letters use. */
    public String describe() {
        return code() + ": " + getMessage();
    }
}
