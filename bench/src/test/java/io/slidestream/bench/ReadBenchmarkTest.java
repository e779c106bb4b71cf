package io.slidestream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideOpener;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadBenchmarkTest {

    @TempDir Path dir;

    @Test
    void listsEveryTileOfTheGridRowMajor() {
        ReadBenchmark.Tiles tiles = ReadBenchmark.Tiles.grid(3, 2, 512, 1, 256);

        assertThat(tiles.count()).isEqualTo(6);
        assertThat(tiles.xs()).containsExactly(0, 512, 1024, 0, 512, 1024);
        assertThat(tiles.ys()).containsExactly(0, 0, 0, 512, 512, 512);
        assertThat(tiles.level()).isEqualTo(1);
        assertThat(tiles.readPx()).isEqualTo(256);
    }

    @Test
    void opensAFreshHandlePerPassAndClosesEachOne() {
        Path file =
                SyntheticSlides.write(
                        SyntheticSlideWriter.builder()
                                .size(1024, 512)
                                .style(Style.GENERIC_TIFF)
                                .tissue(256, 0, 512, 256),
                        dir.resolve("slide.tiff"));
        List<OpenSlide> opened = new ArrayList<>();
        Supplier<OpenSlide> opener =
                () -> {
                    OpenSlide slide = SlideOpener.unrestricted().open(file);
                    opened.add(slide);
                    return slide;
                };
        ReadBenchmark bench =
                new ReadBenchmark(
                        opener,
                        ReadBenchmark.Tiles.grid(4, 2, 256, 0, 256),
                        new TilePreprocessor(),
                        3);

        List<ReadBenchmark.Result> results = bench.run(List.of(1, 2));

        // 2 thread counts x 2 modes, each 1,000 warm-up tiles (125 passes of 8) + 3 measured passes
        assertThat(ReadBenchmark.warmUpPasses(8)).isEqualTo(125);
        assertThat(opened).hasSize(4 * (125 + 3)).allMatch(OpenSlide::isClosed);
        assertThat(opened).doesNotHaveDuplicates();
        assertThat(results)
                .extracting(ReadBenchmark.Result::mode, ReadBenchmark.Result::threads)
                .containsExactly(
                        tuple(ReadBenchmark.Mode.READ, 1),
                        tuple(ReadBenchmark.Mode.READ_PREPROCESS, 1),
                        tuple(ReadBenchmark.Mode.READ, 2),
                        tuple(ReadBenchmark.Mode.READ_PREPROCESS, 2));
        for (ReadBenchmark.Result r : results) {
            assertThat(r.tiles()).isEqualTo(8);
            assertThat(r.passTilesPerSecond()).hasSize(3);
            assertThat(r.worstTilesPerSecond()).isPositive();
            assertThat(r.passCpuMicrosPerTile()).hasSize(3);
            assertThat(r.medianCpuMicrosPerTile()).isPositive();
            assertThat(r.medianTilesPerSecond())
                    .isBetween(r.worstTilesPerSecond(), r.bestTilesPerSecond());
        }
    }

    @Test
    void warmsUpOnAtLeastAThousandTilesAndOnePass() {
        assertThat(ReadBenchmark.warmUpPasses(88))
                .isEqualTo(12); // 256 px tiles of CMU-1-Small-Region
        assertThat(ReadBenchmark.warmUpPasses(20)).isEqualTo(50); // its 512 px tiles
        assertThat(ReadBenchmark.warmUpPasses(1000)).isEqualTo(1);
        assertThat(ReadBenchmark.warmUpPasses(15_000)).isEqualTo(1);
        // --warm-up-tiles: fewer for a quick check, still one pass
        assertThat(ReadBenchmark.warmUpPasses(24, 12)).isEqualTo(2);
        assertThat(ReadBenchmark.warmUpPasses(0, 12)).isEqualTo(1);
    }

    @Test
    void failsWithTheSlidesErrorWhenAReadFails() {
        Path file = TestSlides.slideFixture("unreadable.svs");
        ReadBenchmark bench =
                new ReadBenchmark(
                        () -> SlideOpener.unrestricted().open(file),
                        new ReadBenchmark.Tiles(new long[] {0}, new long[] {0}, 0, 16),
                        new TilePreprocessor(),
                        1);

        assertThatThrownBy(() -> bench.run(List.of(2)))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT_SLIDE));
    }

    @Test
    void refusesAnEmptyTileListAndZeroPasses() {
        Supplier<OpenSlide> never =
                () -> {
                    throw new AssertionError("must not open");
                };
        ReadBenchmark.Tiles none = new ReadBenchmark.Tiles(new long[0], new long[0], 0, 256);
        ReadBenchmark.Tiles one = new ReadBenchmark.Tiles(new long[1], new long[1], 0, 256);

        assertThatThrownBy(() -> new ReadBenchmark(never, none, new TilePreprocessor(), 1))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.NO_TISSUE));
        assertThatThrownBy(() -> new ReadBenchmark(never, one, new TilePreprocessor(), 0))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        assertThatThrownBy(
                        () ->
                                new ReadBenchmark(never, one, new TilePreprocessor(), 1)
                                        .warmUpTiles(-1))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
}
