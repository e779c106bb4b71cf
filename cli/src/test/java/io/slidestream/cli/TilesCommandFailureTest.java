package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input to {@code slidestream tiles} exits with {@link SlideStreamCli#EXIT_FAILURE} and
 * one {@code CODE: message} line on standard error, never a stack trace.
 */
class TilesCommandFailureTest {

    @TempDir Path dir;

    /** Asserts the run failed with {@code code} and a clean one-line error; returns the message. */
    private static String failsWith(CliRun run, String code) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith(code + ": ");
        assertThat(run.err().strip()).doesNotContain("\n");
        assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
        return run.err().substring(code.length() + 2).strip();
    }

    @Test
    void reportsAMissingFileAsSlideNotFound() {
        Path missing = dir.resolve("nope.svs");

        String message = failsWith(CliRun.of("tiles", missing.toString()), "SLIDE_NOT_FOUND");

        assertThat(message).contains(missing.toString()).contains("does not exist");
    }

    @Test
    void reportsATextFileAsUnsupportedFormat() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.svs"), "not a slide\n");

        String message = failsWith(CliRun.of("tiles", text.toString()), "UNSUPPORTED_FORMAT");

        assertThat(message).contains("notes.svs").contains("not a slide format");
    }

    @Test
    void reportsAnEmptyFileAsUnsupportedFormat() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.tiff"));

        String message = failsWith(CliRun.of("tiles", empty.toString()), "UNSUPPORTED_FORMAT");

        assertThat(message).contains("empty (0 bytes)");
    }

    @Test
    void reportsATruncatedCopyOfCmu1AsCorrupt() throws IOException {
        Path truncated = dir.resolve("cmu1-truncated.tiff");
        try (InputStream in = Files.newInputStream(TestSlides.cmu1SmallRegion());
                OutputStream out = Files.newOutputStream(truncated)) {
            out.write(in.readNBytes(1_000_000));
        }

        String message = failsWith(CliRun.of("tiles", truncated.toString()), "CORRUPT_SLIDE");

        assertThat(message).contains("truncated");
    }

    @Test
    void reportsUnopenableTiffAsCorrupt() {
        String message =
                failsWith(
                        CliRun.of("tiles", TestSlides.slideFixture("unopenable.tiff").toString()),
                        "CORRUPT_SLIDE");

        assertThat(message).contains("Unsupported TIFF compression");
    }

    @Test
    void reportsAnAperioSlideThatFailsOnReadAsCorrupt() {
        String message =
                failsWith(
                        CliRun.of("tiles", TestSlides.slideFixture("unreadable.svs").toString()),
                        "CORRUPT_SLIDE");

        assertThat(message).contains("could not read region");
    }

    @Test
    void refusesASlideOutsideTheAllowedRoots() throws IOException {
        Path allowed = Files.createDirectories(dir.resolve("allowed"));

        String message =
                failsWith(
                        CliRun.of(
                                "tiles",
                                TestSlides.cmu1SmallRegion().toString(),
                                "--allowed-root",
                                allowed.toString()),
                        "ACCESS_DENIED");

        assertThat(message).contains("outside the allowed slide folders");
    }

    @Test
    void printsTheEmptyPlanAndFailsWithNoTissueForAGlassOnlySlide() {
        Path glass =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(1024, 768)
                                .style(Style.GENERIC_TIFF)
                                .noTissue(),
                        dir.resolve("glass.tiff"));

        CliRun run = CliRun.of("tiles", glass.toString(), "--json");

        String message = failsWith(run, "NO_TISSUE");
        assertThat(message).contains("no tile of 12");
        JsonNode json = run.json();
        assertThat(json.get("outcome").asText()).isEqualTo("NO_TISSUE");
        assertThat(json.get("grid_tile_count").asInt()).isEqualTo(12);
        assertThat(json.get("tissue_tile_count").asInt()).isZero();
        assertThat(json.get("tiles").size()).isZero();
    }

    @Test
    void asksForADefaultMppWhenTheSlideRecordsNone() {
        String message =
                failsWith(
                        CliRun.of("tiles", TestSlides.slideFixture("boxes.tiff").toString()),
                        "UNKNOWN_RESOLUTION");

        assertThat(message).contains("--default-mpp");
    }

    @Test
    void reportsASlideSmallerThanOneTileAsNoTissue() {
        String message =
                failsWith(
                        CliRun.of("tiles", TestSlides.slideFixture("small.svs").toString()),
                        "NO_TISSUE");

        assertThat(message).contains("16x16").contains("smaller than one tile");
    }
}
