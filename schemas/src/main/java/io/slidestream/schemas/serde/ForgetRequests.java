package io.slidestream.schemas.serde;

import io.slidestream.schemas.avro.SlideScanned;
import java.time.Instant;

/**
 * A request to forget a slide on its way from {@code slides.scanned} to the planner. {@code
 * slidestream forget} writes a tombstone for the slide (a record keyed by the slide id with no
 * value, Kafka's own form of "this key is deleted"); the Kafka source turns it into the {@link
 * SlideScanned} of {@link #of}, whose empty uri {@link SlideScannedRules} refuses in every
 * announced event, so no announcement can be taken for a request and no request reaches a slide
 * reader.
 */
public final class ForgetRequests {
    /** The {@code scanner_id} of a request. */
    public static final String SCANNER_ID = "slidestream-forget";

    private ForgetRequests() {}

    /** The request to forget {@code slideId}. */
    public static SlideScanned of(String slideId) {
        return SlideScanned.newBuilder()
                .setSlideId(slideId)
                .setUri("")
                .setScannedAt(Instant.EPOCH)
                .setScannerId(SCANNER_ID)
                .build();
    }

    /** Whether {@code event} is a request to forget its slide rather than an announcement. */
    public static boolean is(SlideScanned event) {
        return event.getUri() == null || event.getUri().isEmpty();
    }
}
