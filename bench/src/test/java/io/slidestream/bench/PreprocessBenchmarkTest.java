package io.slidestream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PreprocessBenchmarkTest {

    @Test
    void reportsTilesDoneInTheMeasuredTime() {
        PreprocessBenchmark.Rate rate =
                PreprocessBenchmark.measure(256, 224, Duration.ofMillis(50));

        assertThat(rate.tiles()).isPositive();
        assertThat(rate.wallSeconds()).isGreaterThanOrEqualTo(0.05);
        assertThat(rate.perWallSecond()).isEqualTo(rate.tiles() / rate.wallSeconds());
        assertThat(rate.perCpuSecond()).isPositive();
    }

    @Test
    void rejectsEmptyMeasurement() {
        assertThatThrownBy(() -> PreprocessBenchmark.tilesPerSecond(256, 224, Duration.ZERO))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("positive");
    }
}
