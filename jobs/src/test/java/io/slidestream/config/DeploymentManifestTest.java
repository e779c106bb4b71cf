package io.slidestream.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The deploy artifacts that cannot be run here (no Docker engine, no Kubernetes) agree with what is
 * tested: the Flink settings of {@code deploy/conf/flink-config.yaml} (which the cluster ITCase
 * runs with) reach the Kubernetes manifests and docker-compose key for key; only the GPU variant
 * asks for a GPU; docker-compose has the services, ports and buckets the job's configuration names.
 */
class DeploymentManifestTest {
    static final Path DEPLOY = Path.of("..", "deploy");

    static Map<String, Object> yaml(Path file) throws IOException {
        return asMap(
                new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file)));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    static Map<String, String> strings(Map<String, Object> map) {
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, String.valueOf(v).strip().replaceAll("\\s+", " ")));
        return out;
    }

    static Map<String, String> clusterSettings() throws IOException {
        return strings(yaml(DEPLOY.resolve("conf/flink-config.yaml")));
    }

    @Test
    void clusterSettingsHaveDurableCheckpointsAndParentFirstNatives() throws IOException {
        Map<String, String> cluster = clusterSettings();
        assertThat(cluster.get("execution.checkpointing.dir")).startsWith("s3://");
        assertThat(cluster.get("execution.checkpointing.savepoint-dir")).startsWith("s3://");
        assertThat(cluster.get("classloader.parent-first-patterns.additional"))
                .contains("ai.onnxruntime.")
                .contains("com.sun.jna.")
                .contains("org.sqlite.")
                .contains("com.github.luben.zstd.");
        assertThat(cluster.get("restart-strategy.type")).isEqualTo("exponential-delay");
    }

    @Test
    void kubernetesManifestsCarryTheClusterSettingsAndOnlyTheGpuOneAsksForAGpu()
            throws IOException {
        Map<String, String> cluster = clusterSettings();
        for (String name :
                List.of("slidestream-flinkdeployment", "slidestream-flinkdeployment-gpu")) {
            Path file = DEPLOY.resolve("k8s/" + name + ".yaml");
            Map<String, Object> spec = asMap(yaml(file).get("spec"));
            Map<String, String> flink = strings(asMap(spec.get("flinkConfiguration")));
            assertThat(flink).as("flinkConfiguration of %s", file).containsAllEntriesOf(cluster);
            assertThat(flink).containsKey("taskmanager.memory.task.off-heap.size");
            boolean gpu = name.endsWith("-gpu");
            String text = Files.readString(file);
            List<?> args = (List<?>) asMap(spec.get("job")).get("args");
            assertThat(text.contains("nvidia.com/gpu"))
                    .as("%s asks for a GPU", file)
                    .isEqualTo(gpu);
            assertThat(args.contains("-Dinference.provider=cuda")).isEqualTo(gpu);
            assertThat(spec.get("image").toString().contains("-gpu:")).isEqualTo(gpu);
            assertThat(asMap(spec.get("job")).get("upgradeMode")).isEqualTo("savepoint");
        }
        String gpuImage = Files.readString(DEPLOY.resolve("Dockerfile.gpu"));
        assertThat(gpuImage)
                .containsPattern("nvidia/cuda:12\\.[0-9.]+-cudnn-runtime")
                .contains("jobs/target/cluster-lib");
    }

    @Test
    void composeMirrorsTheClusterTopologyAndTheJobConfiguration() throws IOException {
        Map<String, Object> services =
                asMap(yaml(Path.of("..", "docker-compose.yml")).get("services"));
        assertThat(services)
                .containsKeys(
                        "kafka", "minio", "iceberg-rest", "milvus", "jobmanager", "taskmanager");
        Map<String, String> cluster = clusterSettings();
        for (String flinkService : List.of("jobmanager", "taskmanager")) {
            Map<String, Object> env = asMap(asMap(services.get(flinkService)).get("environment"));
            Map<String, String> properties =
                    strings(
                            asMap(
                                    new Load(LoadSettings.builder().build())
                                            .loadFromString(
                                                    env.get("FLINK_PROPERTIES").toString())));
            assertThat(properties)
                    .as("FLINK_PROPERTIES of %s", flinkService)
                    .containsAllEntriesOf(cluster);
        }

        Configuration conf = ConfigLoader.load(DEPLOY.resolve("conf/slidestream.yaml"), Map.of());
        SlideStreamConfig job = SlideStreamConfig.from(conf);
        String kafka =
                asMap(asMap(services.get("kafka")).get("environment"))
                        .get("KAFKA_ADVERTISED_LISTENERS")
                        .toString();
        assertThat(kafka).contains("PLAINTEXT://" + job.kafka().bootstrapServers());
        assertServiceAt(services, URI.create(job.milvus().uri()));
        assertServiceAt(services, URI.create(job.iceberg().uri().orElseThrow()));
        URI s3 = URI.create(job.iceberg().catalogProperties().get("s3.endpoint"));
        assertServiceAt(services, s3);
        assertThat(cluster.get("s3.endpoint")).isEqualTo(s3.toString());

        String buckets = asMap(services.get("create-buckets")).get("entrypoint").toString();
        assertThat(buckets)
                .contains("local/" + URI.create(job.iceberg().warehouse().orElseThrow()).getHost())
                .contains(
                        "local/"
                                + URI.create(cluster.get("execution.checkpointing.dir")).getHost());
    }

    private static void assertServiceAt(Map<String, Object> services, URI uri) {
        assertThat(services).as("compose services").containsKey(uri.getHost());
        Object ports = asMap(services.get(uri.getHost())).get("ports");
        assertThat(String.valueOf(ports))
                .as("ports of %s", uri.getHost())
                .contains(":" + uri.getPort());
    }
}
