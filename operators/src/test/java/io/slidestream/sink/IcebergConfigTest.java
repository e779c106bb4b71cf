package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.sink.IcebergOptions.CatalogType;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IcebergConfigTest {

    @Test
    void localJdbcUsesSqliteWithSchemaVersionV1(@TempDir Path dir) {
        IcebergConfig config = IcebergConfig.localJdbc(dir);
        assertThat(config.catalogType()).isEqualTo(CatalogType.JDBC);
        assertThat(config.catalogProperties())
                .containsEntry("uri", "jdbc:sqlite:" + dir.toAbsolutePath().resolve("catalog.db"))
                .containsEntry("jdbc.schema-version", "V1")
                .containsKey("warehouse");
    }

    @Test
    void readsRestCatalogWithExtraProperties() {
        Configuration conf = new Configuration();
        conf.setString("iceberg.catalog-type", "rest");
        conf.setString("iceberg.uri", "http://polaris:8181/api/catalog");
        conf.setString("iceberg.catalog-properties", "credential:'id:secret'");
        conf.setString("iceberg.namespace", "pathology");

        IcebergConfig config = IcebergConfig.from(conf);

        assertThat(config.catalogType()).isEqualTo(CatalogType.REST);
        assertThat(config.namespace()).isEqualTo("pathology");
        assertThat(config.catalogProperties())
                .containsEntry("uri", "http://polaris:8181/api/catalog")
                .containsEntry("credential", "id:secret")
                .doesNotContainKey("jdbc.schema-version");
        assertThat(config.toString()).doesNotContain("secret");
    }

    @Test
    void extraPropertiesOverrideTheDefaults() {
        IcebergConfig config =
                IcebergConfig.builder()
                        .set(IcebergOptions.URI, "jdbc:postgresql://db/iceberg")
                        .set(IcebergOptions.WAREHOUSE, "s3://bucket/wh")
                        .set(IcebergOptions.CATALOG_PROPERTIES, Map.of("jdbc.schema-version", "V0"))
                        .build();
        assertThat(config.catalogProperties()).containsEntry("jdbc.schema-version", "V0");
    }

    @Test
    void jdbcCatalogNeedsAJdbcUrl() {
        assertThatThrownBy(
                        () ->
                                IcebergConfig.builder()
                                        .set(IcebergOptions.URI, "http://x")
                                        .set(IcebergOptions.WAREHOUSE, "file:/w")
                                        .build())
                .hasMessageContaining("iceberg.uri = 'http://x'")
                .hasMessageContaining("jdbc:sqlite:");
    }

    @Test
    void jdbcAndHadoopCatalogsNeedAWarehouse() {
        assertThatThrownBy(
                        () ->
                                IcebergConfig.builder()
                                        .set(IcebergOptions.URI, "jdbc:sqlite:/tmp/c.db")
                                        .build())
                .hasMessageContaining("iceberg.warehouse = 'null' is required");
        assertThatThrownBy(
                        () ->
                                IcebergConfig.builder()
                                        .set(IcebergOptions.CATALOG_TYPE, CatalogType.HADOOP)
                                        .build())
                .hasMessageContaining("iceberg.warehouse");
    }

    @Test
    void restCatalogNeedsAnHttpUrl() {
        assertThatThrownBy(
                        () ->
                                IcebergConfig.builder()
                                        .set(IcebergOptions.CATALOG_TYPE, CatalogType.REST)
                                        .build())
                .hasMessageContaining("iceberg.uri = 'null'");
    }

    @Test
    void rejectsATableNameWithDots() {
        assertThatThrownBy(
                        () ->
                                IcebergConfig.builder()
                                        .set(IcebergOptions.URI, "jdbc:sqlite:/tmp/c.db")
                                        .set(IcebergOptions.WAREHOUSE, "file:/tmp/w")
                                        .set(IcebergOptions.TILES_TABLE, "db.tiles")
                                        .build())
                .hasMessageContaining("iceberg.tiles-table = 'db.tiles'");
    }
}
