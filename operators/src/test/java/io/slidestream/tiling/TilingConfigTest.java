package io.slidestream.tiling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TilingConfigTest {

    @Test
    void defaultsAreTwentyTimesWith256PxTilesAndClamSegmentation() {
        TilingConfig c = TilingConfig.defaults();

        assertThat(c.targetMpp()).isEqualTo(0.5);
        assertThat(c.tilePx()).isEqualTo(256);
        assertThat(c.stridePx()).isEqualTo(256);
        assertThat(c.tissueThreshold()).isEqualTo(0.25);
        assertThat(c.maskDownsample()).isEqualTo(64);
        assertThat(c.medianKernel()).isEqualTo(7);
        assertThat(c.closeKernel()).isEqualTo(4);
        assertThat(c.minSaturation()).isEqualTo(8);
        assertThat(c.mppTolerance()).isEqualTo(0.01);
        assertThat(c.emitChunk()).isEqualTo(256);
    }

    @Test
    void strideZeroOrAbsentMeansTheTileSize() {
        assertThat(
                        TilingConfig.builder()
                                .set(TilingOptions.TILE_PX, 224)
                                .set(TilingOptions.STRIDE_PX, 0)
                                .build()
                                .stridePx())
                .isEqualTo(224);
        Configuration conf = Configuration.fromMap(Map.of("tiling.tile-px", "512"));
        assertThat(TilingConfig.from(conf).stridePx()).isEqualTo(512);
    }

    @Test
    void readsEveryKeyFromTheConfiguration() {
        Configuration conf =
                Configuration.fromMap(
                        Map.of(
                                "tiling.target-mpp", "0.25",
                                "tiling.tile-px", "512",
                                "tiling.stride-px", "384",
                                "tiling.tissue-threshold", "0.5",
                                "tiling.mask-downsample", "32",
                                "tiling.median-kernel", "5",
                                "tiling.close-kernel", "0",
                                "tiling.min-saturation", "20",
                                "tiling.mpp-tolerance", "0.02",
                                "tiling.emit-chunk", "64"));

        TilingConfig c = TilingConfig.from(conf);

        assertThat(c)
                .isEqualTo(
                        TilingConfig.builder()
                                .set(TilingOptions.TARGET_MPP, 0.25)
                                .set(TilingOptions.TILE_PX, 512)
                                .set(TilingOptions.STRIDE_PX, 384)
                                .set(TilingOptions.TISSUE_THRESHOLD, 0.5)
                                .set(TilingOptions.MASK_DOWNSAMPLE, 32)
                                .set(TilingOptions.MEDIAN_KERNEL, 5)
                                .set(TilingOptions.CLOSE_KERNEL, 0)
                                .set(TilingOptions.MIN_SATURATION, 20)
                                .set(TilingOptions.MPP_TOLERANCE, 0.02)
                                .set(TilingOptions.EMIT_CHUNK, 64)
                                .build());
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    @ParameterizedTest
    @CsvSource({
        "tiling.target-mpp, 0",
        "tiling.target-mpp, -0.5",
        "tiling.target-mpp, NaN",
        "tiling.tile-px, 0",
        "tiling.tile-px, 20000",
        "tiling.stride-px, -1",
        "tiling.tissue-threshold, 1.5",
        "tiling.tissue-threshold, -0.1",
        "tiling.mask-downsample, 0",
        "tiling.median-kernel, 4",
        "tiling.median-kernel, 0",
        "tiling.close-kernel, -1",
        "tiling.min-saturation, 256",
        "tiling.mpp-tolerance, 0.5",
        "tiling.emit-chunk, 0"
    })
    void rejectsAnOutOfRangeValueNamingTheKeyAndTheValue(String key, String value) {
        Configuration conf = Configuration.fromMap(Map.of(key, value));

        assertThatThrownBy(() -> TilingConfig.from(conf))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
                            assertThat(e.getMessage()).startsWith(key + " = ").contains("expected");
                            assertThat(e.getMessage()).contains(value);
                        });
    }

    @Test
    void rejectsAValueThatDoesNotParseNamingTheKeyAndTheValue() {
        Configuration conf = Configuration.fromMap(Map.of("tiling.tile-px", "big"));

        assertThatThrownBy(() -> TilingConfig.from(conf))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
                            assertThat(e.getMessage()).contains("tiling.tile-px").contains("'big'");
                        });
    }
}
