package io.slidestream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir Path dir;

    @Test
    void readsFlatAndNestedKeysAndAppliesOverridesOnTop() throws Exception {
        Path yaml = dir.resolve("slidestream.yaml");
        Files.writeString(
                yaml,
                "job.state-backend: rocksdb\n"
                        + "slides:\n  allowed-roots: [/a, /b]\n"
                        + "job.checkpoint-interval: 30 s\n");

        Configuration config =
                ConfigLoader.load(
                        yaml, ConfigLoader.parseOverrides(List.of("job.state-backend=hashmap")));

        assertThat(config.get(JobOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(config.get(JobOptions.ALLOWED_ROOTS)).containsExactly("/a", "/b");
        assertThat(config.get(JobOptions.CHECKPOINT_INTERVAL)).hasSeconds(30);
    }

    @Test
    void rejectsAMissingFileAndABadOverrideWithTheirNames() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), Map.of()))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.parseOverrides(List.of("inference.batch-size")))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("inference.batch-size")
                .hasMessageContaining("key=value");
    }
}
