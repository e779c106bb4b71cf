package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the command line in its own JVM, as {@code bin/slidestream} does, to check what the process
 * itself does on bad input: the exit status and a clean standard error, no stack trace, no hang.
 */
class SlideStreamCliProcessTest {

    @TempDir Path dir;

    @Test
    void exitsWithTheFailureCodeAndNoStackTraceForAMissingSlide() throws Exception {
        Path missing = dir.resolve("missing.svs");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the same --add-opens list surefire gives this JVM (the launcher passes the same)
        command.addAll(
                ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(a -> a.startsWith("--add-opens"))
                        .toList());
        command.addAll(
                List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        SlideStreamCli.class.getName(),
                        "tiles",
                        missing.toString()));
        Path stdout = dir.resolve("stdout");
        Path stderr = dir.resolve("stderr");

        Process process =
                new ProcessBuilder(command)
                        .redirectOutput(stdout.toFile())
                        .redirectError(stderr.toFile())
                        .start();
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }

        assertThat(finished).as("the process ends").isTrue();
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(err).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(err).startsWith("SLIDE_NOT_FOUND: no slide at " + missing);
        assertThat(err).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(Files.readString(stdout)).isEmpty();
    }
}
