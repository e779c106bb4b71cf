package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunInboxTest {

    @TempDir Path dir;

    @Test
    void holdsExactlyTheSlidesOfTheLatestRun() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Path small = Files.writeString(cache.resolve("bench-4096-00.tiff"), "small");
        Path resection = Files.writeString(cache.resolve("bench-32000-00.tiff"), "large");
        Path inbox = dir.resolve("inbox");

        RunInbox.prepare(inbox, List.of(small));
        RunInbox.prepare(inbox, List.of(resection));

        assertThat(slideNames(inbox)).containsExactly("bench-32000-00.tiff");
        assertThat(Files.readString(inbox.resolve("bench-32000-00.tiff"))).isEqualTo("large");
        // The cache keeps both.
        assertThat(slideNames(cache)).hasSize(2);
    }

    @Test
    void refusesAFolderItDidNotMakeAndTouchesNothing() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("mine"));
        Path precious = Files.writeString(inbox.resolve("scan.svs"), "data");

        assertThatThrownBy(() -> RunInbox.prepare(inbox, List.of()))
                .hasMessageContaining("was not made by a benchmark run")
                .hasMessageContaining("nothing was touched");
        assertThat(Files.readString(precious)).isEqualTo("data");
    }

    private static List<String> slideNames(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .sorted()
                    .toList();
        }
    }
}
