package io.slidestream.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.sink.IcebergOptions.CatalogType;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The committed sample configurations (deploy/conf) name only real keys and pass the job's own
 * validation, so a renamed option cannot leave them silently stale.
 */
class DeploymentConfigTest {
    static final Path CONF = Path.of("..", "deploy", "conf");

    static SlideStreamConfig load(String file) {
        Configuration conf = ConfigLoader.load(CONF.resolve(file), Map.of());
        ConfigKeys.requireKnown(conf);
        return SlideStreamConfig.from(conf);
    }

    @Test
    void clusterConfigurationNamesTheComposeServices() {
        SlideStreamConfig config = load("slidestream.yaml");
        assertThat(config.kafka().bootstrapServers()).isEqualTo("kafka:9092");
        assertThat(config.milvus().uri()).isEqualTo("http://milvus:19530");
        assertThat(config.iceberg().catalogType()).isEqualTo(CatalogType.REST);
        assertThat(config.iceberg().catalogProperties())
                .containsEntry("s3.endpoint", "http://minio:9000");
        assertThat(config.stateBackend()).isEqualTo("rocksdb");
        assertThat(config.allowedRoots()).containsExactly("/slides");
    }

    @Test
    void hostConfigurationUsesThePublishedPorts() {
        SlideStreamConfig config = load("slidestream-host.yaml");
        assertThat(config.kafka().bootstrapServers()).isEqualTo("localhost:29092");
        assertThat(config.milvus().uri()).isEqualTo("http://localhost:19530");
        assertThat(config.iceberg().catalogProperties())
                .containsEntry("s3.endpoint", "http://localhost:9000")
                .containsEntry("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
    }

    @Test
    void refusesAMisspeltKeyNamingItAndTheRealOnes() {
        Configuration conf = new Configuration();
        conf.setString("milvus.url", "http://milvus:19530");
        conf.setString("parallelism.default", "2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigKeys.requireKnown(conf))
                .hasMessageContaining("'milvus.url' is not a SlideStream option")
                .hasMessageContaining("milvus.uri");
    }
}
