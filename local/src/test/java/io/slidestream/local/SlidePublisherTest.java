package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlidePublisherTest {
    static final FileTime SCANNED = FileTime.from(Instant.parse("2026-11-22T10:00:00Z"));

    @TempDir Path dir;

    Path slide(String name, int bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, new byte[bytes]);
        Files.setLastModifiedTime(file, SCANNED);
        return file;
    }

    @Test
    void derivesTheSameIdForTheSameFileAndANewOneWhenItChanges() throws Exception {
        Path file = slide("CMU 1 (small).svs", 10);
        String id = SlidePublisher.slideIdFor(file);
        assertThat(id).matches("CMU_1__small_-[0-9a-f]{12}");
        assertThat(SlidePublisher.slideIdFor(file)).isEqualTo(id);

        Files.write(file, new byte[11]);
        Files.setLastModifiedTime(file, SCANNED);
        assertThat(SlidePublisher.slideIdFor(file)).isNotEqualTo(id);
    }

    @Test
    void aLinkToAnOldSlideIsScannedWhenTheLinkAppeared() throws Exception {
        Path old = slide("archived.svs", 10);
        assertThat(SlidePublisher.eventFor(old, null, "s").getScannedAt())
                .isEqualTo(SCANNED.toInstant());
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path link = Files.createSymbolicLink(inbox.resolve("archived.svs"), old);
        Instant linked =
                Files.getLastModifiedTime(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        .toInstant();
        assertThat(linked).isAfter(SCANNED.toInstant());
        assertThat(SlidePublisher.eventFor(link, null, "s").getScannedAt())
                .isEqualTo(linked.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        // The slide's identity is still its target's: name, size, modification time.
        assertThat(SlidePublisher.slideIdFor(link)).isEqualTo(SlidePublisher.slideIdFor(old));
    }

    @Test
    void refusesAMissingFileWithSlideNotFound() {
        assertThatThrownBy(() -> SlidePublisher.slideIdFor(dir.resolve("missing.svs")))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("missing.svs");
    }

    @Test
    void refusesToBuildWithoutBootstrapServers() {
        assertThatThrownBy(() -> SlidePublisher.builder().build())
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("bootstrap servers");
    }
}
