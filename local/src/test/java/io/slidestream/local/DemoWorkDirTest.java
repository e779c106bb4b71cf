package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo clears its work folder, so it refuses one that holds someone else's files. */
class DemoWorkDirTest {
    @TempDir Path dir;

    @Test
    void refusesAFolderWithFilesItDidNotMakeAndTouchesNothing() throws Exception {
        Path work = Files.createDirectories(dir.resolve("thesis"));
        Path precious = Files.writeString(work.resolve("chapter-1.tex"), "years of work");
        assertThatThrownBy(() -> DemoRun.prepareWorkDir(work, false))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("is not empty and was not made by the demo")
                .hasMessageContaining("nothing was touched");
        assertThat(precious).hasContent("years of work");
    }

    @Test
    void usesANewOrEmptyFolderAndClearsOneItMadeBefore() throws Exception {
        Path work = dir.resolve("demo");
        DemoRun.prepareWorkDir(work, false);
        assertThat(work.resolve(DemoRun.WORK_DIR_MARKER)).exists();
        Files.writeString(work.resolve("kafka.log"), "old run");

        DemoRun.prepareWorkDir(work, false);
        assertThat(work.resolve("kafka.log")).doesNotExist();
        assertThat(work.resolve(DemoRun.WORK_DIR_MARKER)).exists();

        Path empty = Files.createDirectories(dir.resolve("empty"));
        DemoRun.prepareWorkDir(empty, false);
        assertThat(empty.resolve(DemoRun.WORK_DIR_MARKER)).exists();
    }

    @Test
    void refusesAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "x");
        assertThatThrownBy(() -> DemoRun.prepareWorkDir(file, false))
                .hasMessageContaining("is a file");
        assertThat(file).hasContent("x");
    }
}
