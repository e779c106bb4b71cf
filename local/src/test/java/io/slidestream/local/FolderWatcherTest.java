package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderWatcherTest {
    static final Instant START = Instant.parse("2026-11-22T10:00:00Z");
    static final Duration POLL = Duration.ofSeconds(2);
    static final FileTime MODIFIED = FileTime.from(Instant.parse("2026-11-22T09:59:00Z"));

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = START;

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @TempDir Path inbox;
    final ManualClock clock = new ManualClock();
    final List<Path> publishedFiles = new ArrayList<>();
    boolean kafkaDown;

    FolderWatcher watcher() {
        return FolderWatcher.builder()
                .folder(inbox)
                .clock(clock)
                .pollInterval(POLL)
                .publish(
                        (file, slideId) -> {
                            if (kafkaDown) {
                                throw new SlideStreamException(
                                        ErrorCode.STORE_UNAVAILABLE, "broker away");
                            }
                            publishedFiles.add(file);
                            return SlideScanned.newBuilder()
                                    .setSlideId(slideId)
                                    .setUri(file.toString())
                                    .setScannedAt(START)
                                    .setScannerId("test")
                                    .build();
                        })
                .build();
    }

    Path write(String name, int bytes) throws IOException {
        Path file = inbox.resolve(name);
        Files.write(file, new byte[bytes]);
        Files.setLastModifiedTime(file, MODIFIED);
        return file;
    }

    List<SlideScanned> pollAfter(FolderWatcher w, Duration d) {
        clock.advance(d);
        return w.poll();
    }

    @BeforeEach
    void reset() {
        publishedFiles.clear();
    }

    @Test
    void publishesASlideOnlyAfterItsSizeWasStableForTwoPolls() throws IOException {
        FolderWatcher w = watcher();
        Path slide = write("case-1.svs", 100);
        assertThat(w.poll()).isEmpty(); // first seen
        assertThat(pollAfter(w, POLL)).isEmpty(); // stable for one interval
        List<SlideScanned> out = pollAfter(w, POLL); // stable for two intervals
        assertThat(out).extracting(SlideScanned::getUri).containsExactly(slide.toString());
        assertThat(out.get(0).getSlideId()).isEqualTo(SlidePublisher.slideIdFor(slide));
    }

    @Test
    void waitsWhileAFileIsStillGrowing() throws IOException {
        FolderWatcher w = watcher();
        write("growing.ndpi", 100);
        w.poll();
        write("growing.ndpi", 200);
        assertThat(pollAfter(w, POLL)).isEmpty();
        write("growing.ndpi", 300);
        assertThat(pollAfter(w, POLL)).isEmpty();
        assertThat(pollAfter(w, POLL)).isEmpty(); // 300 bytes stable for one interval
        assertThat(pollAfter(w, POLL)).hasSize(1);
    }

    @Test
    void neverPublishesTheSameFileTwice() throws IOException {
        FolderWatcher w = watcher();
        write("a.tiff", 10);
        w.poll();
        pollAfter(w, POLL);
        assertThat(pollAfter(w, POLL)).hasSize(1);
        assertThat(pollAfter(w, POLL)).isEmpty();
        assertThat(pollAfter(w, Duration.ofHours(1))).isEmpty();
        assertThat(publishedFiles).hasSize(1);
    }

    @Test
    void remembersPublishedFilesAcrossARestart() throws IOException {
        write("a.svs", 10);
        FolderWatcher first = watcher();
        first.poll();
        pollAfter(first, POLL);
        assertThat(pollAfter(first, POLL)).hasSize(1);

        write("b.svs", 20);
        FolderWatcher restarted = watcher();
        restarted.poll();
        pollAfter(restarted, POLL);
        assertThat(pollAfter(restarted, POLL))
                .extracting(SlideScanned::getUri)
                .containsExactly(inbox.resolve("b.svs").toString());
        assertThat(publishedFiles).containsExactly(inbox.resolve("a.svs"), inbox.resolve("b.svs"));
        assertThat(restarted.publishedSlideIds()).hasSize(2);
    }

    @Test
    void publishesARescannedFileUnderTheSameNameAgain() throws IOException {
        FolderWatcher w = watcher();
        Path slide = write("rescan.svs", 10);
        w.poll();
        pollAfter(w, POLL);
        assertThat(pollAfter(w, POLL)).hasSize(1);
        Files.write(slide, new byte[11]);
        Files.setLastModifiedTime(slide, FileTime.from(MODIFIED.toInstant().plusSeconds(3600)));
        pollAfter(w, POLL);
        pollAfter(w, POLL);
        assertThat(pollAfter(w, POLL)).hasSize(1);
        assertThat(w.publishedSlideIds()).hasSize(2);
    }

    @Test
    void ignoresHiddenTemporaryEmptyAndNonSlideFiles() throws IOException {
        FolderWatcher w = watcher();
        write(".partial.svs", 10);
        write("~lock.svs", 10);
        write("slide.svs.part", 10);
        write("notes.txt", 10);
        write("empty.svs", 0);
        Files.createDirectory(inbox.resolve("folder.mrxs"));
        write("UPPER.SVS", 10);
        w.poll();
        pollAfter(w, POLL);
        assertThat(pollAfter(w, POLL))
                .extracting(SlideScanned::getUri)
                .containsExactly(inbox.resolve("UPPER.SVS").toString());
    }

    @Test
    void retriesAPublishThatFailed() throws IOException {
        FolderWatcher w = watcher();
        write("a.scn", 10);
        w.poll();
        pollAfter(w, POLL);
        kafkaDown = true;
        assertThat(pollAfter(w, POLL)).isEmpty();
        kafkaDown = false;
        assertThat(pollAfter(w, POLL)).hasSize(1);
    }

    @Test
    void recognisesEverySlideExtension() {
        for (String ext :
                List.of(
                        "svs", "tif", "tiff", "ndpi", "vms", "vmu", "scn", "mrxs", "bif",
                        "svslide")) {
            assertThat(FolderWatcher.isSlideName("x." + ext)).as(ext).isTrue();
        }
        assertThat(FolderWatcher.isSlideName("x.jpg")).isFalse();
        assertThat(FolderWatcher.isSlideName("svs")).isFalse();
    }
}
