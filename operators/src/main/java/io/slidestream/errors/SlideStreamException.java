package io.slidestream.errors;

import io.slidestream.schemas.ErrorCode;
import java.util.Objects;

/**
 * A failure with a stable {@link ErrorCode} and a message that says what was wrong and what to do.
 * Operators turn it into a {@code SlideFailed} record; the command line prints {@code CODE:
 * message} and exits non-zero. Never carries a stack trace to the user unless the cause is
 * unexpected.
 */
public class SlideStreamException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public SlideStreamException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public SlideStreamException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    /** {@code CODE: message}, the form the command line and the dead-letter records use. */
    public String describe() {
        return code + ": " + getMessage();
    }
}
