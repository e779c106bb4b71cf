package io.slidestream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.inference.GpfmTinyFixture;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.OnnxTestModels;
import io.slidestream.inference.SharedInferenceEngines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedBenchmarkTest {

    @Test
    void measuresBothPathsAndSharesOneEngineBetweenTwoSlots() throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(2)
                        .set(InferenceOptions.CAPACITY, 4)
                        .set(InferenceOptions.QUEUE_CAPACITY, 8)
                        .build();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        // Engines other tests left idle would be closed by the benchmark's own cleanup.
        SharedInferenceEngines.closeIdle();
        int enginesBefore = SharedInferenceEngines.loadedEngines();

        EmbedBenchmark.Figures f =
                EmbedBenchmark.run(
                        config, 2, 1, new PrintStream(printed, true, StandardCharsets.UTF_8));

        assertThat(f.bareTilesPerSecond).isPositive();
        assertThat(f.batcherTilesPerSecond).isPositive();
        assertThat(f.ratio()).isPositive();
        assertThat(f.tilesPerMeasurement).isEqualTo(4);
        assertThat(f.enginesWithTwoSlots).isEqualTo(enginesBefore + 1);
        assertThat(SharedInferenceEngines.loadedEngines()).isEqualTo(enginesBefore);
        assertThat(printed.toString(StandardCharsets.UTF_8))
                .contains("(a) bare OrtSession.run loop", "ratio b/a", "VmHWM");
    }

    @Test
    void measuresAFloat16ModelFedWithFloat16Tiles(@TempDir Path dir) throws Exception {
        Path model = OnnxTestModels.fp16ChannelMean(dir.resolve("fp16-mean.onnx"), 16);
        InferenceConfig config =
                GpfmTinyFixture.config(2)
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.CAPACITY, 4)
                        .set(InferenceOptions.QUEUE_CAPACITY, 8)
                        .build();
        SharedInferenceEngines.closeIdle();

        EmbedBenchmark.Figures f =
                EmbedBenchmark.run(
                        config,
                        2,
                        1,
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        assertThat(f.bareTilesPerSecond).isPositive();
        assertThat(f.batcherTilesPerSecond).isPositive();
    }
}
