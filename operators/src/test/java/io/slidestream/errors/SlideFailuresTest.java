package io.slidestream.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import org.junit.jupiter.api.Test;

class SlideFailuresTest {

    @Test
    void recordsASlidesOwnFailureWithItsCodeAndAnythingElseAsInternal() {
        SlideFailed corrupt =
                SlideFailures.of(
                        "s1",
                        "/slides/s1.svs",
                        new SlideStreamException(ErrorCode.CORRUPT_SLIDE, "bad tile"),
                        SlideFailures.STAGE_PLAN,
                        0L);
        assertThat(corrupt.getCode()).isEqualTo("CORRUPT_SLIDE");
        assertThat(corrupt.getMessage()).isEqualTo("bad tile");
        SlideFailed internal =
                SlideFailures.of(
                        "s1", "/slides/s1.svs", new IllegalStateException("x"), "plan", 0L);
        assertThat(internal.getCode()).isEqualTo("INTERNAL");
    }

    @Test
    void neverRecordsAnInfrastructureFailureAsTheSlides() {
        SlideStreamException missingLibrary =
                new SlideStreamException(ErrorCode.OPENSLIDE_UNAVAILABLE, "no libopenslide.so.0");
        assertThatThrownBy(
                        () ->
                                SlideFailures.of(
                                        "s1",
                                        "/slides/s1.svs",
                                        missingLibrary,
                                        SlideFailures.STAGE_PLAN,
                                        0L))
                .isSameAs(missingLibrary);
    }
}
