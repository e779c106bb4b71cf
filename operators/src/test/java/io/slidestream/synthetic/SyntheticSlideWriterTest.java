package io.slidestream.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.slidestream.slide.MppSource;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticSlideWriterTest {

    private static final long WIDTH = 3000;
    private static final long HEIGHT = 2000;

    /** Tissue in level-0 pixels: exactly 4 x 3 tiles of 256 px. */
    private static final SyntheticSlideWriter.Region TISSUE =
            new SyntheticSlideWriter.Region(512, 512, 1024, 768);

    @TempDir Path dir;

    private SyntheticSlideWriter.Builder slide(Style style) {
        return SyntheticSlideWriter.builder()
                .size(WIDTH, HEIGHT)
                .mpp(0.5)
                .levels(3)
                .style(style)
                .seed(7)
                .tissue(java.util.List.of(TISSUE));
    }

    @Test
    void writesGenericTiffThatOpenSlideReadsWithMppFromTiffResolution() throws IOException {
        Path file = dir.resolve("generic.tiff");
        SyntheticSlideWriter.Result result = slide(Style.GENERIC_TIFF).build().write(file);

        assertThat(result.levels()).isEqualTo(3);
        assertThat(result.bytes()).isEqualTo(Files.size(file));
        try (OpenSlide os = OpenSlide.open(file)) {
            assertThat(os.vendor()).isEqualTo("generic-tiff");
            assertThat(os.levelCount()).isEqualTo(3);
            assertThat(os.levelWidth(0)).isEqualTo(3000);
            assertThat(os.levelHeight(0)).isEqualTo(2000);
            assertThat(os.levelWidth(1)).isEqualTo(750);
            assertThat(os.levelHeight(1)).isEqualTo(500);
            assertThat(os.levelWidth(2)).isEqualTo(188);
            assertThat(os.levelHeight(2)).isEqualTo(125);
            assertThat(os.levelDownsample(1)).isCloseTo(4.0, within(0.01));
            assertThat(os.levelDownsample(2)).isCloseTo(16.0, within(0.1));

            SlideMetadata meta = os.metadata(OptionalDouble.empty());
            assertThat(meta.mppSource()).isEqualTo(MppSource.TIFF_RESOLUTION);
            assertThat(meta.mppX()).isCloseTo(0.5, within(1e-4));
            assertThat(meta.mppY()).isCloseTo(0.5, within(1e-4));
            assertTissueInsideAndBackgroundOutside(os);
        }
    }

    @Test
    void writesAperioStyleThatOpenSlideReadsWithOpenSlideMpp() throws IOException {
        Path file = dir.resolve("aperio.svs");
        slide(Style.APERIO).mpp(0.25).build().write(file);

        try (OpenSlide os = OpenSlide.open(file)) {
            assertThat(os.vendor()).isEqualTo("aperio");
            assertThat(os.levelCount()).isEqualTo(3);
            assertThat(os.property("openslide.mpp-x")).isEqualTo("0.25");
            SlideMetadata meta = os.metadata(OptionalDouble.empty());
            assertThat(meta.mppSource()).isEqualTo(MppSource.OPENSLIDE_MPP);
            assertThat(meta.mpp()).isEqualTo(0.25);
            assertThat(meta.objectivePower()).hasValue(40.0);
            assertTissueInsideAndBackgroundOutside(os);
        }
    }

    @Test
    void everyLevelDecodesCompletely() throws IOException {
        Path file = dir.resolve("levels.tiff");
        slide(Style.GENERIC_TIFF).build().write(file);
        try (OpenSlide os = OpenSlide.open(file)) {
            for (int level = 0; level < os.levelCount(); level++) {
                int w = (int) os.levelWidth(level);
                int h = (int) os.levelHeight(level);
                int[] pixels = new int[w * h];
                os.readRegion(pixels, 0, 0, level, w, h);
                // The last pixel lies in a padded edge tile: background, not black or garbage.
                assertThat(saturation(pixels[pixels.length - 1])).isLessThan(0.05);
            }
        }
    }

    @Test
    void jdkTiffReaderDecodesTheSameImageAsOpenSlide() throws IOException {
        Path file = dir.resolve("jdk.tiff");
        slide(Style.GENERIC_TIFF).build().write(file);
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile());
                OpenSlide os = OpenSlide.open(file)) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("tiff").next();
            reader.setInput(in);
            assertThat(reader.getNumImages(true)).isEqualTo(3);
            for (int level = 0; level < 3; level++) {
                assertThat(reader.getWidth(level)).isEqualTo(os.levelWidth(level));
                assertThat(reader.getTileWidth(level)).isEqualTo(256);
            }
            BufferedImage jdk = reader.read(0);
            BufferedImage openslide = os.readRegionImage(0, 0, 0, 1024, 1024);
            int maxDiff = 0;
            for (int y = 0; y < 1024; y++) {
                for (int x = 0; x < 1024; x++) {
                    int a = jdk.getRGB(x, y);
                    int b = openslide.getRGB(x, y);
                    for (int shift = 0; shift <= 16; shift += 8) {
                        maxDiff =
                                Math.max(
                                        maxDiff,
                                        Math.abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF)));
                    }
                }
            }
            // Two JPEG decoders (chroma upsampling differs slightly), one container.
            assertThat(maxDiff).isLessThanOrEqualTo(8);
        }
    }

    @Test
    void countsTissueTilesOfTheLayout() {
        SyntheticSlideWriter writer = slide(Style.GENERIC_TIFF).build();
        assertThat(writer.tissueTilesAtLevel0()).isEqualTo(12);
        assertThat(slide(Style.GENERIC_TIFF).noTissue().build().tissueTilesAtLevel0()).isZero();
    }

    @Test
    void writesBackgroundOnlySlideWithoutSaturatedPixels() throws IOException {
        Path file = dir.resolve("empty.tiff");
        SyntheticSlideWriter.Result result =
                slide(Style.GENERIC_TIFF).noTissue().build().write(file);
        assertThat(result.tissueTilesAtLevel0()).isZero();
        try (OpenSlide os = OpenSlide.open(file)) {
            int w = (int) os.levelWidth(0);
            int h = (int) os.levelHeight(0);
            int[] pixels = new int[w * h];
            os.readRegion(pixels, 0, 0, 0, w, h);
            for (int p : pixels) {
                assertThat(saturation(p)).isLessThan(0.05);
            }
        }
    }

    @Test
    void sameSeedGivesIdenticalFilesAndOtherSeedDifferentTexture() throws IOException {
        Path a = dir.resolve("a.tiff");
        Path b = dir.resolve("b.tiff");
        Path c = dir.resolve("c.tiff");
        slide(Style.GENERIC_TIFF).build().write(a);
        slide(Style.GENERIC_TIFF).threads(1).build().write(b);
        slide(Style.GENERIC_TIFF).seed(8).build().write(c);
        assertThat(Files.mismatch(a, b)).isEqualTo(-1);
        assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
    }

    @Test
    void demoLayoutStaysInsideTheSlide() throws IOException {
        Path file = dir.resolve("demo.tiff");
        SyntheticSlideWriter writer =
                SyntheticSlideWriter.builder()
                        .size(4000, 3000)
                        .tissue(SyntheticSlideWriter.demoLayout(4000, 3000))
                        .build();
        assertThat(writer.tissueTilesAtLevel0()).isGreaterThan(30);
        writer.write(file);
        try (OpenSlide os = OpenSlide.open(file)) {
            assertThat(os.levelCount()).isEqualTo(2);
        }
    }

    @Test
    void rejectsIncompleteConfiguration() {
        assertThatThrownBy(() -> SyntheticSlideWriter.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size(width, height)");
        assertThatThrownBy(
                        () -> SyntheticSlideWriter.builder().size(100, 100).tileSize(100).build())
                .hasMessageContaining("multiple of 16");
        assertThatThrownBy(
                        () ->
                                SyntheticSlideWriter.builder()
                                        .size(100, 100)
                                        .tissue(50, 50, 100, 10)
                                        .build())
                .hasMessageContaining("outside");
    }

    /** Tissue centre is saturated H&E at every level; a background patch is near white. */
    private static void assertTissueInsideAndBackgroundOutside(OpenSlide os) {
        long cx = TISSUE.x() + TISSUE.width() / 2;
        long cy = TISSUE.y() + TISSUE.height() / 2;
        for (int level = 0; level < os.levelCount(); level++) {
            double ds = os.levelDownsample(level);
            int[] tissue = new int[16 * 16];
            os.readRegion(tissue, cx - (long) (8 * ds), cy - (long) (8 * ds), level, 16, 16);
            assertThat(meanSaturation(tissue)).as("tissue at level %d", level).isGreaterThan(0.3);
            int[] background = new int[16 * 16];
            os.readRegion(background, 2000, 1600, level, 16, 16);
            for (int p : background) {
                assertThat(saturation(p)).as("background at level %d", level).isLessThan(0.05);
                assertThat((p >> 8) & 0xFF).isBetween(232, 248);
            }
        }
    }

    private static double meanSaturation(int[] pixels) {
        double sum = 0;
        for (int p : pixels) {
            sum += saturation(p);
        }
        return sum / pixels.length;
    }

    private static double saturation(int rgb) {
        int r = (rgb >> 16) & 0xFF;
        int g = (rgb >> 8) & 0xFF;
        int b = rgb & 0xFF;
        int max = Math.max(r, Math.max(g, b));
        int min = Math.min(r, Math.min(g, b));
        return max == 0 ? 0 : (max - min) / (double) max;
    }
}
