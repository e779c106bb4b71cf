package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.GpfmTinyFixture;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.testing.TestSlides;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import io.slidestream.tiling.TilingConfig;
import io.slidestream.tiling.TilingOptions;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fidelity of {@code slides.jpeg-half-scale}, the one reading option that is not
 * pixel-identical: CMU-1-Small-Region tiled at 1.0 um/px with a stride of a quarter tile (512 px
 * reads at level 0 every 128 px, resized to the model's 224 px), every tissue tile embedded with
 * the fixture model once from the exact 512 px read and once from the 256 px read decoded at 1/2
 * scale in the DCT domain. Logs the minimum and mean embedding cosine, the figure
 * docs/performance.md quotes; asserts that every tile was read at half scale and that no tile's
 * embedding is far off.
 */
class JpegHalfScaleFidelityTest {
    private static final Logger LOG = LoggerFactory.getLogger(JpegHalfScaleFidelityTest.class);

    @Test
    void halfScaleEmbeddingsStayCloseToTheExactOnesOnARealSlide() {
        PlannedSlide planned =
                PlannedSlide.plan(
                        SlideOpener.unrestricted(),
                        TestSlides.cmu1SmallRegion().toString(),
                        TilingConfig.builder()
                                .set(TilingOptions.TARGET_MPP, 1.0)
                                .set(TilingOptions.TILE_PX, 256)
                                .set(TilingOptions.STRIDE_PX, 64)
                                .build(),
                        OptionalDouble.empty());
        TilePlan plan = planned.plan();
        assertThat(plan.readLevel()).isZero();
        assertThat(plan.readPx()).isEqualTo(512);
        long[] xs = plan.tileXs();
        long[] ys = plan.tileYs();
        assertThat(xs.length).isGreaterThan(50);

        TilePreprocessor pre = new TilePreprocessor();
        double min = 1;
        double sum = 0;
        try (OpenSlide slide = OpenSlide.open(TestSlides.cmu1SmallRegion(), SlideReader.AUTO);
                EmbeddingEngine engine =
                        EmbeddingEngine.open(
                                GpfmTinyFixture.model(),
                                InferenceConfig.builder()
                                        .set(InferenceOptions.MODEL_PATH, GpfmTinyFixture.model())
                                        .set(InferenceOptions.BATCH_SIZE, 2)
                                        .build())) {
            int[] full = new int[512 * 512];
            int[] half = new int[256 * 256];
            for (int i = 0; i < xs.length; i++) {
                slide.readRegion(full, xs[i], ys[i], 0, 512, 512);
                assertThat(slide.readRegionAtHalfScale(half, xs[i], ys[i], 0, 256, 256))
                        .as("tile %d read at half scale", i)
                        .isTrue();
                float[][] e =
                        engine.embed(
                                List.of(
                                        pre.preprocess(full, 512, 512),
                                        pre.preprocess(half, 256, 256)));
                double cos = GpfmTinyFixture.cosine(e[0], e[1]);
                min = Math.min(min, cos);
                sum += cos;
            }
        }
        double mean = sum / xs.length;
        LOG.info(
                "slides.jpeg-half-scale on CMU-1-Small-Region, {} tissue tiles of 512 px at level"
                        + " 0, gpfm-tiny: embedding cosine to the exact path min {} mean {}",
                xs.length,
                String.format("%.5f", min),
                String.format("%.5f", mean));
        assertThat(min).isGreaterThan(0.9);
    }
}
