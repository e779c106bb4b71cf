package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import org.junit.jupiter.api.Test;

class OpenSlideLibraryTest {

    @Test
    void reportsMissingLibraryWithTheInstallCommand() {
        assertThatThrownBy(() -> OpenSlideLibrary.load("libopenslide-absent.so.9"))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.OPENSLIDE_UNAVAILABLE))
                .hasMessageContaining("libopenslide-absent.so.9")
                .hasMessageContaining("apt-get install libopenslide0");
    }

    @Test
    void fallsBackToTheNextName() {
        OpenSlideLibrary lib =
                OpenSlideLibrary.load("libopenslide-absent.so.9", "libopenslide.so.0");
        assertThat(lib.openslide_get_version()).startsWith("3.");
    }
}
