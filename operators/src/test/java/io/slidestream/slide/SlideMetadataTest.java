package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SlideMetadataTest {

    private static final OptionalDouble NO_DEFAULT = OptionalDouble.empty();

    @Test
    void prefersOpenSlideMppOverTiffResolutionAndObjective() {
        SlideMetadata meta =
                read(
                        props(
                                "openslide.mpp-x", "0.2527",
                                "openslide.mpp-y", "0.2531",
                                "tiff.XResolution", "20000",
                                "tiff.ResolutionUnit", "centimeter",
                                "openslide.objective-power", "40"),
                        NO_DEFAULT);
        assertThat(meta.mppSource()).isEqualTo(MppSource.OPENSLIDE_MPP);
        assertThat(meta.mppX()).isEqualTo(0.2527);
        assertThat(meta.mppY()).isEqualTo(0.2531);
        assertThat(meta.mpp()).isCloseTo(0.2529, within(1e-12));
        assertThat(meta.objectivePower()).hasValue(40.0);
    }

    @Test
    void derivesMppFromTiffResolutionInCentimetersOrInches() {
        SlideMetadata cm =
                read(
                        props(
                                "tiff.XResolution", "20000",
                                "tiff.YResolution", "40000",
                                "tiff.ResolutionUnit", "centimeter"),
                        NO_DEFAULT);
        assertThat(cm.mppSource()).isEqualTo(MppSource.TIFF_RESOLUTION);
        assertThat(cm.mppX()).isEqualTo(0.5);
        assertThat(cm.mppY()).isEqualTo(0.25);

        SlideMetadata inch =
                read(
                        props("tiff.XResolution", "101600", "tiff.ResolutionUnit", "inch"),
                        NO_DEFAULT);
        assertThat(inch.mppSource()).isEqualTo(MppSource.TIFF_RESOLUTION);
        assertThat(inch.mppX()).isEqualTo(0.25);
        assertThat(inch.mppY()).isEqualTo(0.25);
    }

    @Test
    void ignoresTiffResolutionWithoutAPhysicalUnit() {
        SlideMetadata none =
                read(
                        props(
                                "tiff.XResolution", "20000",
                                "tiff.YResolution", "20000",
                                "tiff.ResolutionUnit", "none",
                                "openslide.objective-power", "20"),
                        NO_DEFAULT);
        assertThat(none.mppSource()).isEqualTo(MppSource.OBJECTIVE_POWER);
        assertThat(none.mppX()).isEqualTo(0.5);

        SlideMetadata absent = read(props("tiff.XResolution", "20000"), OptionalDouble.of(0.25));
        assertThat(absent.mppSource()).isEqualTo(MppSource.CONFIGURED_DEFAULT);
        assertThat(absent.mpp()).isEqualTo(0.25);
    }

    @Test
    void skipsUnparsableAndNonPositiveValues() {
        SlideMetadata meta =
                read(
                        props(
                                "openslide.mpp-x", "n/a",
                                "openslide.mpp-y", "0",
                                "openslide.objective-power", "-5"),
                        OptionalDouble.of(0.5));
        assertThat(meta.mppSource()).isEqualTo(MppSource.CONFIGURED_DEFAULT);
        assertThat(meta.objectivePower()).isEmpty();
    }

    @Test
    void failsWithUnknownResolutionWhenNothingSaysTheResolution() {
        assertThatThrownBy(() -> read(props("tiff.ResolutionUnit", "inch"), NO_DEFAULT))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_RESOLUTION))
                .hasMessageContaining("slide-1")
                .hasMessageContaining("configure a default resolution");
    }

    @Test
    void serialisesWithSnakeCaseNamesAndLowerCaseMppSource() throws Exception {
        SlideMetadata meta = read(props("openslide.objective-power", "20"), NO_DEFAULT);
        JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(meta));
        assertThat(json.get("mpp_source").asText()).isEqualTo("objective_power");
        assertThat(json.get("vendor").asText()).isEqualTo("fake");
        assertThat(json.get("level_count").asInt()).isEqualTo(3);
        assertThat(json.get("levels").get(1).get("width").asLong()).isEqualTo(2500);
        assertThat(json.get("levels").get(1).get("downsample").asDouble()).isEqualTo(4.0);
        assertThat(json.get("mpp_x").asDouble()).isEqualTo(0.5);
        assertThat(json.get("objective_power").asDouble()).isEqualTo(20);
        assertThat(json.get("associated_images").get(0).asText()).isEqualTo("label");
    }

    @Test
    void picksCoarsestLevelNotCoarserThanTheDownsample() {
        SlideMetadata meta = read(props("openslide.mpp-x", "0.25"), NO_DEFAULT);
        assertThat(meta.bestLevelForDownsample(0.5)).isZero();
        assertThat(meta.bestLevelForDownsample(1)).isZero();
        assertThat(meta.bestLevelForDownsample(3.9)).isZero();
        assertThat(meta.bestLevelForDownsample(3.99)).isEqualTo(1);
        // 16.08 is within 1% of 16: pyramids are not exact.
        assertThat(meta.bestLevelForDownsample(4)).isEqualTo(1);
        assertThat(meta.bestLevelForDownsample(15.95)).isEqualTo(2);
        assertThat(meta.bestLevelForDownsample(15.5)).isEqualTo(1);
        assertThat(meta.bestLevelForDownsample(1000)).isEqualTo(2);
        // 0.25 µm/px slide, target 1.0 µm/px: downsample 4.
        assertThat(meta.bestLevelForMpp(1.0)).isEqualTo(1);
        assertThat(meta.bestLevelForMpp(0.5)).isZero();
    }

    private static SlideMetadata read(Map<String, String> properties, OptionalDouble defaultMpp) {
        return SlideMetadata.read(new FakeSlide(properties), "slide-1", defaultMpp);
    }

    private static Map<String, String> props(String... keyValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** Three levels 10000x8000, 2500x2000 (4), 625x500 (16.08), and the given properties. */
    private record FakeSlide(Map<String, String> properties) implements SlideSource {
        private static final long[] WIDTHS = {10_000, 2_500, 625};
        private static final long[] HEIGHTS = {8_000, 2_000, 500};
        private static final double[] DOWNSAMPLES = {1, 4, 16.08};

        @Override
        public String vendor() {
            return "fake";
        }

        @Override
        public int levelCount() {
            return 3;
        }

        @Override
        public long levelWidth(int level) {
            return WIDTHS[level];
        }

        @Override
        public long levelHeight(int level) {
            return HEIGHTS[level];
        }

        @Override
        public double levelDownsample(int level) {
            return DOWNSAMPLES[level];
        }

        @Override
        public Set<String> associatedImageNames() {
            return Set.of("label");
        }

        @Override
        public void readRegion(int[] dest, long x, long y, int level, int width, int height) {
            throw new UnsupportedOperationException("metadata only");
        }

        @Override
        public BufferedImage readRegionImage(long x, long y, int level, int width, int height) {
            throw new UnsupportedOperationException("metadata only");
        }

        @Override
        public void close() {}
    }
}
