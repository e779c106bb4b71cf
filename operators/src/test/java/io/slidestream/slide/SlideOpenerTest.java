package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlideOpenerTest {

    @TempDir Path dir;

    private final SlideOpener unrestricted = SlideOpener.unrestricted();

    @Test
    void reportsMissingFileAsNotFound() {
        assertCode(() -> unrestricted.open(dir.resolve("nope.svs")), ErrorCode.SLIDE_NOT_FOUND)
                .hasMessageContaining("nope.svs")
                .hasMessageContaining("does not exist");
    }

    @Test
    void reportsDirectoryAsNotFound() {
        assertCode(() -> unrestricted.open(dir), ErrorCode.SLIDE_NOT_FOUND)
                .hasMessageContaining("is a directory");
    }

    @Test
    void reportsZeroByteFileAsUnsupported() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.svs"));
        assertCode(() -> unrestricted.open(empty), ErrorCode.UNSUPPORTED_FORMAT)
                .hasMessageContaining("empty (0 bytes)");
    }

    @Test
    void reportsPlainTextAsUnsupported() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.svs"), "not a slide\n".repeat(100));
        assertCode(() -> unrestricted.open(text), ErrorCode.UNSUPPORTED_FORMAT)
                .hasMessageContaining("notes.svs")
                .hasMessageContaining("not a slide format");
    }

    @Test
    void reportsTruncatedSlideAsCorrupt() throws IOException {
        Path source = TestSlides.cmu1SmallRegion();
        long size = Files.size(source);
        for (long keep : new long[] {100, size / 2, size - 1000}) {
            Path truncated = dir.resolve("truncated-" + keep + ".svs");
            try (InputStream in = Files.newInputStream(source)) {
                Files.write(truncated, in.readNBytes((int) keep));
            }
            assertCode(() -> unrestricted.open(truncated), ErrorCode.CORRUPT_SLIDE)
                    .hasMessageContaining("truncated")
                    .hasMessageContaining("copy or export it again");
        }
    }

    @Test
    void deniesPathsOutsideTheAllowedRoots() throws IOException {
        Path root = Files.createDirectories(dir.resolve("slides"));
        Path outside = Files.copy(TestSlides.slideFixture("small.svs"), dir.resolve("small.svs"));
        SlideOpener opener = SlideOpener.builder().allowedRoot(root).build();

        assertCode(() -> opener.open(outside), ErrorCode.ACCESS_DENIED)
                .hasMessageContaining("outside the allowed slide folders");
        // "..": normalised before the check.
        assertCode(
                        () -> opener.open(root.resolve("../small.svs").toString()),
                        ErrorCode.ACCESS_DENIED)
                .hasMessageContaining("outside");
        // A missing file outside the roots says nothing about whether it exists.
        assertCode(() -> opener.open(dir.resolve("missing.svs")), ErrorCode.ACCESS_DENIED);
        // A symlink inside the root that points outside is judged by its target.
        Path link = Files.createSymbolicLink(root.resolve("link.svs"), outside);
        assertCode(() -> opener.open(link), ErrorCode.ACCESS_DENIED)
                .hasMessageContaining("resolved to " + outside.toRealPath());

        Path inside = Files.copy(outside, root.resolve("inside.svs"));
        try (OpenSlide slide = opener.open(inside)) {
            assertThat(slide.vendor()).isEqualTo("aperio");
        }
        assertCode(() -> opener.open(root.resolve("missing.svs")), ErrorCode.SLIDE_NOT_FOUND);
    }

    @Test
    void judgesPathsThroughASymlinkedRootByTheirTarget() throws IOException {
        Path realRoot = Files.createDirectories(dir.resolve("real-root"));
        Path linkedRoot = Files.createSymbolicLink(dir.resolve("linked-root"), realRoot);
        Files.copy(TestSlides.slideFixture("small.svs"), realRoot.resolve("a.svs"));
        SlideOpener opener = SlideOpener.builder().allowedRoot(linkedRoot).build();

        try (OpenSlide slide = opener.open(linkedRoot.resolve("a.svs"))) {
            assertThat(slide.vendor()).isEqualTo("aperio");
        }
        assertCode(() -> opener.open(linkedRoot.resolve("b.svs")), ErrorCode.SLIDE_NOT_FOUND);
        assertCode(() -> opener.open(realRoot.resolve("sub/c.svs")), ErrorCode.SLIDE_NOT_FOUND);
    }

    @Test
    void opensFileUris() throws IOException {
        Path withSpace = Files.createDirectories(dir.resolve("scan folder"));
        Path slide = Files.copy(TestSlides.slideFixture("small.svs"), withSpace.resolve("a.svs"));
        try (OpenSlide opened = unrestricted.open(slide.toUri().toString())) {
            assertThat(opened.vendor()).isEqualTo("aperio");
        }
        try (OpenSlide opened = unrestricted.open("file:" + slide.toUri().getRawPath())) {
            assertThat(opened.levelCount()).isEqualTo(1);
        }
    }

    @Test
    void rejectsRemoteAndMalformedLocations() {
        assertCode(() -> unrestricted.open("s3://bucket/slide.svs"), ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("not a local file");
        assertCode(
                        () -> unrestricted.open("file://scanner7/slides/a.svs"),
                        ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("remote host 'scanner7'");
        assertCode(() -> unrestricted.open("file:/bad path/a.svs"), ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("percent-encode");
        assertCode(() -> unrestricted.open(" "), ErrorCode.INVALID_REQUEST);
    }

    @Test
    void requiresRootsOrAnExplicitChoiceToAllowAnyPath() {
        assertThatThrownBy(() -> SlideOpener.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("allowAnyPath()");
        assertThatThrownBy(() -> SlideOpener.builder().allowedRoot(dir.resolve("no")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not exist");
        assertThat(SlideOpener.builder().allowAnyPath().build().allowedRoots()).isEmpty();
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertCode(
            org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code) {
        return assertThatThrownBy(call)
                .isInstanceOfSatisfying(
                        SlideStreamException.class, e -> assertThat(e.code()).isEqualTo(code));
    }
}
