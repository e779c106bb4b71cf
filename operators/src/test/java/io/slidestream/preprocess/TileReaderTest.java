package io.slidestream.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.inference.GpfmTinyFixture;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.records.PreprocessedTile;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.CorruptSlides;
import io.slidestream.testing.SyntheticSlides;
import io.slidestream.testing.TestSlides;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilingConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;
import java.util.stream.Collectors;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader on a slide that opens but fails on read ({@code unreadable.svs}), between tiles of a
 * good slide: one dead-letter record for the bad slide, one failed-tile marker for each of its
 * tiles (the failing one and every one skipped after it), and the good slide's tiles read as usual.
 */
class TileReaderTest {
    private static final long SCANNED_AT = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
    private static final int BAD_TILES = 4;

    @Test
    void sendsOneFailureAndOneMarkerPerTileOfASlideThatFailsOnRead() throws Exception {
        Path bad = TestSlides.slideFixture("unreadable.svs");
        Path good = TestSlides.cmu1SmallRegion();
        TileReader reader = new TileReader(GpfmTinyFixture.config(1).build(), List.of());
        try (OneInputStreamOperatorTestHarness<TileTask, PreprocessedTile> harness =
                ProcessFunctionTestHarnesses.forProcessFunction(reader)) {
            harness.processElement(task("good", good, 0, 2), 1L);
            for (int i = 0; i < BAD_TILES; i++) {
                harness.processElement(task("bad", bad, i, BAD_TILES), 2L);
            }
            harness.processElement(task("good", good, 1, 2), 3L);

            assertThat(harness.extractOutputValues())
                    .extracting(t -> t.task.slideId + "#" + t.task.tileIndex)
                    .containsExactly("good#0", "good#1");

            List<SlideFailed> failures =
                    harness.getSideOutput(TileReader.FAILED).stream()
                            .map(StreamRecord::getValue)
                            .collect(Collectors.toList());
            assertThat(failures).hasSize(1);
            assertThat(failures.get(0).getSlideId()).isEqualTo("bad");
            assertThat(failures.get(0).getCode()).isEqualTo(ErrorCode.CORRUPT_SLIDE.name());
            assertThat(failures.get(0).getStage()).isEqualTo("read");

            List<TileEmbedding> markers =
                    harness.getSideOutput(TileReader.FAILED_TILE_MARKERS).stream()
                            .map(StreamRecord::getValue)
                            .collect(Collectors.toList());
            assertThat(markers)
                    .extracting(m -> m.slideId + "#" + m.tileIndex + "/" + m.tileCount)
                    .containsExactly("bad#0/4", "bad#1/4", "bad#2/4", "bad#3/4");
            assertThat(markers)
                    .allSatisfy(
                            m -> {
                                assertThat(m.failed()).isTrue();
                                assertThat(m.failure).isEqualTo(ErrorCode.CORRUPT_SLIDE);
                                assertThat(m.embedding).isNull();
                                assertThat(m.scannedAtMillis).isEqualTo(SCANNED_AT);
                                assertThat(m.uri).isEqualTo(bad.toString());
                            });
            assertThat(markers.get(2).x).isEqualTo(512L);
        }
    }

    @Test
    void failsOnReadASyntheticSlideThatPlansButHasBrokenLevel0Tiles(@TempDir Path dir)
            throws Exception {
        Path good =
                SyntheticSlides.write(
                        SyntheticSlides.twoBlocks(0.5, Style.GENERIC_TIFF),
                        dir.resolve("good.tiff"));
        Path broken = CorruptSlides.zeroLevel0Tiles(good, dir.resolve("broken.tiff"));
        // Planning reads a coarse level only: the broken slide plans like the good one.
        assertThat(
                        PlannedSlide.plan(
                                        SlideOpener.unrestricted(),
                                        broken.toString(),
                                        TilingConfig.defaults(),
                                        OptionalDouble.empty())
                                .plan()
                                .tissueTileCount())
                .isEqualTo(SyntheticSlides.TISSUE_TILES);

        TileReader reader = new TileReader(GpfmTinyFixture.config(1).build(), List.of());
        try (OneInputStreamOperatorTestHarness<TileTask, PreprocessedTile> harness =
                ProcessFunctionTestHarnesses.forProcessFunction(reader)) {
            for (int i = 0; i < 3; i++) {
                harness.processElement(task("broken", broken, i, 3), 1L);
            }
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(TileReader.FAILED))
                    .extracting(r -> r.getValue().getCode().toString())
                    .containsExactly(ErrorCode.CORRUPT_SLIDE.name());
            assertThat(harness.getSideOutput(TileReader.FAILED_TILE_MARKERS))
                    .extracting(r -> r.getValue().tileIndex)
                    .containsExactly(0, 1, 2);
        }
    }

    private static TileTask task(String slideId, Path slide, int index, int count) {
        TileTask t = new TileTask();
        t.slideId = slideId;
        t.uri = slide.toString();
        t.x = 256L * index;
        // unreadable.svs fails on its first tile, at (0, 0).
        t.y = 0L;
        t.level = 0;
        t.readPx = 256;
        t.tilePx = 256;
        t.mpp = 0.5;
        t.tissue = 1f;
        t.tileIndex = index;
        t.tileCount = count;
        t.scannedAtMillis = SCANNED_AT;
        return t;
    }
}
