package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.testing.TestSlides;
import java.awt.image.BufferedImage;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Every file in ../shared/fixtures/slides, opened through {@link SlideOpener}. */
class OpenSlideFixturesTest {

    private final SlideOpener opener = SlideOpener.unrestricted();

    @Test
    void reportsLibraryVersion() {
        assertThat(OpenSlide.libraryVersion()).startsWith("3.");
    }

    @Test
    void readsSmallAperioSlideWithItsThumbnail() {
        try (OpenSlide slide = opener.open(TestSlides.slideFixture("small.svs"))) {
            SlideMetadata meta = slide.metadata(OptionalDouble.empty());
            assertThat(meta.vendor()).isEqualTo("aperio");
            assertThat(meta.levelCount()).isEqualTo(1);
            assertThat(meta.level(0)).isEqualTo(new SlideMetadata.Level(16, 16, 1.0));
            assertThat(meta.mppX()).isEqualTo(0.499);
            assertThat(meta.mppY()).isEqualTo(0.499);
            assertThat(meta.mppSource()).isEqualTo(MppSource.OPENSLIDE_MPP);
            assertThat(meta.objectivePower()).hasValue(20.0);
            assertThat(meta.associatedImageNames()).containsExactly("thumbnail");

            BufferedImage thumbnail = slide.readAssociatedImage("thumbnail");
            assertThat(thumbnail.getWidth()).isEqualTo(16);
            assertThat(thumbnail.getHeight()).isEqualTo(16);
            // The thumbnail is a downscaled copy of the one level: their mean colours agree.
            BufferedImage level0 = slide.readRegionImage(0, 0, 0, 16, 16);
            assertThat(meanGreen(thumbnail)).isCloseTo(meanGreen(level0), within(20.0));
            assertThatThrownBy(() -> slide.readAssociatedImage("label"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("thumbnail");
        }
    }

    @Test
    void readsGenericTiffPyramidAndIgnoresAPlaceholderTiffResolution() {
        try (OpenSlide slide = opener.open(TestSlides.slideFixture("boxes.tiff"))) {
            // 28.346 px/cm is 72 dpi (352.8 um/px): a placeholder, not a microscope resolution.
            assertThat(slide.properties()).containsEntry("tiff.ResolutionUnit", "centimeter");
            assertThatThrownBy(() -> slide.metadata(OptionalDouble.empty()))
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_RESOLUTION))
                    .hasMessageContaining("configure a default resolution");

            SlideMetadata meta = slide.metadata(OptionalDouble.of(0.5));
            assertThat(meta.vendor()).isEqualTo("generic-tiff");
            assertThat(meta.levels())
                    .extracting(SlideMetadata.Level::width, SlideMetadata.Level::height)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(300L, 250L),
                            org.assertj.core.groups.Tuple.tuple(150L, 125L),
                            org.assertj.core.groups.Tuple.tuple(75L, 62L),
                            org.assertj.core.groups.Tuple.tuple(37L, 31L));
            assertThat(meta.level(2).downsample()).isCloseTo(4.016, within(0.001));
            assertThat(meta.mppSource()).isEqualTo(MppSource.CONFIGURED_DEFAULT);
            assertThat(meta.mppX()).isEqualTo(0.5);
            assertThat(meta.objectivePower()).isEmpty();
            assertThat(meta.associatedImageNames()).isEmpty();
            assertThat(slide.bestLevelForDownsample(5)).isEqualTo(2);
            assertThat(meta.bestLevelForDownsample(4)).isEqualTo(2);
            assertThat(meta.bestLevelForDownsample(3.9)).isEqualTo(1);
        }
    }

    @Test
    void readsHamamatsuNdpiWithSevenLevels() {
        try (OpenSlide slide =
                opener.open(TestSlides.slideFixture("hamamatsu-fluorescence.ndpi"))) {
            SlideMetadata meta = slide.metadata(OptionalDouble.empty());
            assertThat(meta.vendor()).isEqualTo("hamamatsu");
            assertThat(meta.levelCount()).isEqualTo(7);
            assertThat(meta.width()).isEqualTo(3968);
            assertThat(meta.height()).isEqualTo(4864);
            assertThat(meta.level(6)).isEqualTo(new SlideMetadata.Level(62, 76, 64.0));
            assertThat(meta.mppX()).isCloseTo(0.228, within(0.0005));
            assertThat(meta.mppSource()).isEqualTo(MppSource.OPENSLIDE_MPP);
            assertThat(meta.objectivePower()).hasValue(40.0);
            assertThat(meta.associatedImageNames()).containsExactly("macro");
            assertThat(slide.readAssociatedImage("macro").getWidth()).isEqualTo(1188);
            int[] pixels = new int[62 * 76];
            slide.readRegion(pixels, 0, 0, 6, 62, 76);
        }
    }

    @Test
    void reportsUnopenableTiffAsCorruptWithOpenSlidesMessage() {
        assertThatThrownBy(() -> opener.open(TestSlides.slideFixture("unopenable.tiff")))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT_SLIDE))
                .hasMessageContaining("unopenable.tiff")
                .hasMessageContaining("Unsupported TIFF compression: 52479");
    }

    @Test
    void reportsUnreadableSlideAsCorruptOnReadAndStaysFailed() {
        try (OpenSlide slide = opener.open(TestSlides.slideFixture("unreadable.svs"))) {
            assertThat(slide.vendor()).isEqualTo("aperio");
            int[] pixels = new int[16 * 16];
            for (int attempt = 0; attempt < 2; attempt++) {
                assertThatThrownBy(() -> slide.readRegion(pixels, 0, 0, 0, 16, 16))
                        .isInstanceOfSatisfying(
                                SlideStreamException.class,
                                e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT_SLIDE))
                        .hasMessageContaining("unreadable.svs")
                        .hasMessageContaining("read region x=0 y=0 level=0 16x16")
                        .hasMessageContaining("re-export");
            }
        }
    }

    private static double meanGreen(BufferedImage image) {
        double sum = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                sum += (image.getRGB(x, y) >> 8) & 0xFF;
            }
        }
        return sum / (image.getWidth() * image.getHeight());
    }
}
