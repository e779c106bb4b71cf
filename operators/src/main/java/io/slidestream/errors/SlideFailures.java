package io.slidestream.errors;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import java.time.Instant;

/** Builds the {@link SlideFailed} records every stage sends to the dead letter. */
public final class SlideFailures {

    /** The stage names recorded in {@code SlideFailed.stage}. */
    public static final String STAGE_PLAN = "plan";

    public static final String STAGE_READ = "read";
    public static final String STAGE_EMBED = "embed";
    public static final String STAGE_AGGREGATE = "aggregate";

    private SlideFailures() {}

    public static SlideFailed of(
            String slideId,
            String uri,
            ErrorCode code,
            String message,
            String stage,
            long failedAtMillis) {
        return SlideFailed.newBuilder()
                .setSlideId(slideId)
                .setUri(uri == null ? "" : uri)
                .setCode(code.name())
                .setMessage(message == null ? code.name() : message)
                .setStage(stage)
                .setFailedAt(Instant.ofEpochMilli(failedAtMillis))
                .build();
    }

    /**
     * A failure record for {@code error}: its own code and message for a {@link
     * SlideStreamException}, {@code INTERNAL} with the exception's text otherwise.
     *
     * @throws SlideStreamException {@code error} itself when its code {@linkplain
     *     ErrorCode#failsOver() fails over}: an infrastructure failure is never recorded as the
     *     slide's; the task fails and the job restarts from its last checkpoint
     */
    public static SlideFailed of(
            String slideId, String uri, Throwable error, String stage, long failedAtMillis) {
        if (error instanceof SlideStreamException) {
            SlideStreamException e = (SlideStreamException) error;
            if (e.code().failsOver()) {
                throw e;
            }
            return of(slideId, uri, e.code(), e.getMessage(), stage, failedAtMillis);
        }
        return of(
                slideId,
                uri,
                ErrorCode.INTERNAL,
                "unexpected failure while processing the slide: "
                        + error
                        + "; this is a bug in SlideStream, please report it with the log",
                stage,
                failedAtMillis);
    }
}
