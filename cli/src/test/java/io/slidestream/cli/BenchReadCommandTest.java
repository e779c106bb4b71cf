package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.slide.synthetic.SyntheticSlideWriter;
import io.slidestream.slide.synthetic.SyntheticSlideWriter.Style;
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
    void printsARowPerModeAndThreadCountOverAllGridTiles() {
        // 4 x 3 tiles, two of them tissue
        Path slide =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(1024, 768)
                                .style(Style.GENERIC_TIFF)
                                .tissue(256, 256, 512, 256),
                        dir.resolve("small.tiff"));

        CliRun run =
                CliRun.of("bench", "read", slide.toString(), "--threads", "1,2", "--passes", "2");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("all 12 grid tiles (2 with tissue)")
                .contains("fresh OpenSlide handle");
        List<String> rows =
                Arrays.stream(run.out().split("\n")).filter(l -> l.startsWith("read ")).toList();
        assertThat(rows).hasSize(4);
        // mode, threads, median, min, max tiles/s, speed-up over one thread, CPU us per tile
        String figures = "\\s+\\d+\\s+\\d+\\s+\\d+\\s+";
        assertThat(rows.get(0)).matches("read\\s+1" + figures + "1\\.00x\\s+\\d+");
        assertThat(rows.get(1)).matches("read \\+ preprocess\\s+1" + figures + "1\\.00x\\s+\\d+");
        assertThat(rows.get(2)).matches("read\\s+2" + figures + "\\d+\\.\\d\\dx\\s+\\d+");
        assertThat(rows.get(3))
                .matches("read \\+ preprocess\\s+2" + figures + "\\d+\\.\\d\\dx\\s+\\d+");
        for (String row : rows) {
            // the median rate is a positive whole number of tiles per second
            String[] cols = row.replace("read + preprocess", "rp").split("\\s+");
            assertThat(Long.parseLong(cols[2])).isPositive();
        }
    }

    @Test
    void failsLikeTilesOnABadSlide() {
        CliRun run =
                CliRun.of("bench", "read", TestSlides.slideFixture("unreadable.svs").toString());

        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("CORRUPT_SLIDE: ").doesNotContain("\tat ");
    }
}
