package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReadCommandTest {

    @TempDir Path dir;

    @Test
    void printsARowPerReaderModeAndThreadCountOverAllGridTilesAndASummary() {
        // 4 x 3 tiles, two of them tissue
        Path slide =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(1024, 768)
                                .style(Style.GENERIC_TIFF)
                                .tissue(256, 256, 512, 256),
                        dir.resolve("small.tiff"));

        CliRun run =
                CliRun.of(
                        "bench",
                        "read",
                        slide.toString(),
                        "--threads",
                        "1,2",
                        "--passes",
                        "2",
                        "--warm-up-tiles",
                        "24");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("all 12 grid tiles (2 with tissue)")
                .contains("method: 2 warm-up + 2 measured passes per row")
                .contains("float16 models: preprocess")
                .contains("fresh slide handle")
                .contains("served by openslide: openslide, last pass 0 regions decoded directly")
                .contains("served by auto: direct-jpeg (levels [0]), last pass 12 regions decoded")
                .containsPattern("\\n  read\\s+\\d+\\s+\\d+\\s+\\d+\\.\\d\\dx\\n")
                .containsPattern(
                        "auto: read is \\d+% of read \\+ preprocess; read \\+ preprocess for one"
                                + " H100 \\(2600 tiles/s\\) takes \\d+\\.\\d cores");
        for (String reader : List.of("openslide", "auto")) {
            List<String> rows =
                    Arrays.stream(run.out().split("\n"))
                            .filter(l -> l.startsWith(reader + " "))
                            .map(l -> l.substring(reader.length()).strip())
                            .toList();
            assertThat(rows).hasSize(4);
            // mode, threads, median, min, max tiles/s, speed-up over one thread, CPU us per tile
            String figures = "\\s+\\d+\\s+\\d+\\s+\\d+\\s+";
            assertThat(rows.get(0)).matches("read\\s+1" + figures + "1\\.00x\\s+\\d+");
            assertThat(rows.get(1))
                    .matches("read \\+ preprocess\\s+1" + figures + "1\\.00x\\s+\\d+");
            assertThat(rows.get(2)).matches("read\\s+2" + figures + "\\d+\\.\\d\\dx\\s+\\d+");
            assertThat(rows.get(3))
                    .matches("read \\+ preprocess\\s+2" + figures + "\\d+\\.\\d\\dx\\s+\\d+");
            for (String row : rows) {
                // the median rate is a positive whole number of tiles per second
                String[] cols = row.replace("read + preprocess", "rp").split("\\s+");
                assertThat(Long.parseLong(cols[2])).isPositive();
            }
        }
    }

    @Test
    void measuresOneReaderWhenSlidesReaderIsGiven() {
        Path slide =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(512, 512)
                                .style(Style.APERIO)
                                .tissue(0, 0, 256, 256),
                        dir.resolve("one.svs"));

        CliRun run =
                CliRun.of(
                        "bench",
                        "read",
                        slide.toString(),
                        "--threads",
                        "1",
                        "--passes",
                        "1",
                        "--warm-up-tiles",
                        "0",
                        "--no-float16-costs",
                        "-Dslides.reader=openslide");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("served by openslide")
                .doesNotContain("served by auto")
                .doesNotContain("float16 models:");
    }

    @Test
    void refusesAnUnknownReaderAndKeysThatDoNotApply() {
        Path slide = TestSlides.slideFixture("small.svs");
        CliRun bogus = CliRun.of("tiles", slide.toString(), "-Dslides.reader=fast");
        assertThat(bogus.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(bogus.err())
                .startsWith("INVALID_CONFIG: slides.reader is 'fast'; use 'auto'")
                .doesNotContain("\tat ");
        CliRun jobKey = CliRun.of("tiles", slide.toString(), "-Dkafka.bootstrap-servers=x:1");
        assertThat(jobKey.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(jobKey.err())
                .startsWith("INVALID_REQUEST: -Dkafka.bootstrap-servers does not apply");
    }

    @Test
    void failsLikeTilesOnABadSlide() {
        CliRun run =
                CliRun.of("bench", "read", TestSlides.slideFixture("unreadable.svs").toString());

        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("CORRUPT_SLIDE: ").doesNotContain("\tat ");
    }
}
