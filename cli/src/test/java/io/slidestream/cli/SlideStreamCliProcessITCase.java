package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.synthetic.SyntheticSlideWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the command line in its own JVM, as {@code bin/slidestream} does, to check what the process
 * itself does on bad input (the exit status and a clean standard error, no stack trace, no hang)
 * and on SIGTERM (the demo drains).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SlideStreamCliProcessITCase {

    @TempDir Path dir;

    @Test
    void exitsWithTheFailureCodeAndNoStackTraceForAMissingSlide() throws Exception {
        Path missing = dir.resolve("missing.svs");
        List<String> command = cli("tiles", missing.toString());
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

    @Test
    void demoFollowStoppedWithSigtermFinishesItsSlidePrintsTheSummaryAndWritesTheJson()
            throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        SyntheticSlideWriter.builder()
                .size(2048, 1536)
                .style(SyntheticSlideWriter.Style.APERIO)
                .seed(7)
                .tissue(512, 512, 1024, 512)
                .build()
                .write(inbox.resolve("one.svs"));
        Path summary = dir.resolve("summary.json");
        Path stdout = dir.resolve("stdout");
        Process process =
                new ProcessBuilder(
                                cli(
                                        "demo",
                                        "--follow",
                                        "--slides",
                                        inbox.toString(),
                                        "--work-dir",
                                        dir.resolve("work").toString(),
                                        "--summary-json",
                                        summary.toString()))
                        .redirectOutput(stdout.toFile())
                        .redirectError(dir.resolve("stderr").toFile())
                        .start();
        try {
            // SIGTERM as soon as the slide is announced: it is in flight, not done.
            Awaitility.await("slide published")
                    .atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofMillis(100))
                    .failFast(
                            "the demo exited",
                            () ->
                                    assertThat(process.isAlive())
                                            .as(Files.readString(stdout))
                                            .isTrue())
                    .until(() -> Files.readString(stdout).contains("published "));
            process.destroy();
            assertThat(process.waitFor(180, TimeUnit.SECONDS)).as("drained and exited").isTrue();
        } finally {
            process.destroyForcibly();
        }
        String out = Files.readString(stdout);
        assertThat(process.exitValue()).as(out).isZero();
        assertThat(out).contains("Stopping: no new slides are taken; finishing the 1 slides");
        assertThat(out).contains("Summary written to " + summary);
        JsonNode json = new ObjectMapper().readTree(summary.toFile());
        assertThat(json.get("slides_total").asInt()).isEqualTo(1);
        assertThat(json.get("slides_completed").asInt()).isEqualTo(1);
        assertThat(json.toString()).contains("\"status\":\"COMPLETE\"");
    }

    /** The command line in its own JVM, with this repository as its home. */
    private static List<String> cli(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the same --add-opens list surefire gives this JVM (the launcher passes the same)
        command.addAll(
                ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(a -> a.startsWith("--add-opens"))
                        .toList());
        command.add("-Dslidestream.home=" + Path.of("..").toAbsolutePath().normalize());
        command.addAll(
                List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        SlideStreamCli.class.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
