package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.settings.ConfigBuilder;
import java.nio.file.Paths;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class InferenceConfigTest {

    @Test
    void readsEveryKeyFromTheFlinkConfiguration() {
        Configuration conf = new Configuration();
        conf.setString("inference.model-path", "/models/gpfm.onnx");
        conf.setString("inference.batch-size", "48");
        conf.setString("inference.max-wait", "25 ms");
        conf.setString("inference.timeout", "3 min");
        conf.setString("inference.capacity", "20");
        conf.setString("inference.queue-capacity", "200");
        conf.setString("inference.provider", "TensorRT");
        conf.setString("inference.device-id", "1");
        conf.setString("inference.tensorrt-fp16", "false");
        conf.setString("inference.tensorrt-cache-dir", "/cache/trt");
        conf.setString("inference.tile-head-path", "/models/tissue.onnx");
        conf.setString("inference.slide-head-path", "/models/abmil.onnx");

        InferenceConfig c = InferenceConfig.from(conf);

        assertThat(c.modelPath()).isEqualTo(Paths.get("/models/gpfm.onnx"));
        assertThat(c.batchSize()).isEqualTo(48);
        assertThat(c.maxWait()).isEqualTo(Duration.ofMillis(25));
        assertThat(c.timeout()).isEqualTo(Duration.ofMinutes(3));
        assertThat(c.capacity()).isEqualTo(20);
        assertThat(c.queueCapacity()).isEqualTo(200);
        assertThat(c.provider()).isEqualTo(ExecutionProvider.TENSORRT);
        assertThat(c.deviceId()).isEqualTo(1);
        assertThat(c.tensorrtFp16()).isFalse();
        assertThat(c.tensorrtCacheDir()).contains(Paths.get("/cache/trt"));
        assertThat(c.tileHeadPath()).contains(Paths.get("/models/tissue.onnx"));
        assertThat(c.slideHeadPath()).contains(Paths.get("/models/abmil.onnx"));
    }

    @Test
    void takesDefaultsForUnsetKeys() {
        Configuration conf = new Configuration();
        conf.setString("inference.model-path", "m.onnx");
        InferenceConfig c = InferenceConfig.from(conf);
        assertThat(c.batchSize()).isEqualTo(InferenceOptions.BATCH_SIZE.defaultValue());
        assertThat(c.provider()).isEqualTo(ExecutionProvider.CPU);
        assertThat(c.tileHeadPath()).isEmpty();
        assertThat(c.warmUp()).isTrue();
    }

    @Test
    void namesTheKeyAndValueOfABadSetting() {
        assertInvalid(
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, "m.onnx")
                        .set(InferenceOptions.BATCH_SIZE, 0),
                "inference.batch-size = '0' must be at least 1");
        assertInvalid(InferenceConfig.builder(), "inference.model-path = 'null' is not set");
        assertInvalid(
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, "m.onnx")
                        .set(InferenceOptions.TIMEOUT, Duration.ZERO),
                "inference.timeout = 'PT0S' must be positive");
        assertInvalid(
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, "m.onnx")
                        .set(InferenceOptions.CAPACITY, 100)
                        .set(InferenceOptions.QUEUE_CAPACITY, 10),
                "inference.queue-capacity = '10' is smaller than inference.capacity=100");
        Configuration conf = new Configuration();
        conf.setString("inference.model-path", "m.onnx");
        conf.setString("inference.provider", "rocm");
        assertThatThrownBy(() -> InferenceConfig.from(conf))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e ->
                                assertThat(e.getMessage())
                                        .contains(
                                                "inference.provider='rocm'",
                                                "cpu, cuda or tensorrt"));
    }

    @Test
    void sharesEnginesOnlyBetweenConfigsWithTheSameModelAndSettings() {
        InferenceConfig a =
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, "m.onnx")
                        .set(InferenceOptions.CAPACITY, 4)
                        .build();
        InferenceConfig sameEngine =
                a.toBuilder()
                        .set(InferenceOptions.CAPACITY, 8)
                        .set(InferenceOptions.TIMEOUT, Duration.ofSeconds(5))
                        .build();
        InferenceConfig otherBatch = a.toBuilder().set(InferenceOptions.BATCH_SIZE, 4).build();
        assertThat(sameEngine.engineKey()).isEqualTo(a.engineKey());
        assertThat(otherBatch.engineKey()).isNotEqualTo(a.engineKey());
    }

    private static void assertInvalid(ConfigBuilder<InferenceConfig> builder, String message) {
        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
                            assertThat(e.getMessage()).contains(message);
                        });
    }
}
