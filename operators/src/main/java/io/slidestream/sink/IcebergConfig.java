package io.slidestream.sink;

import static io.slidestream.settings.ConfigBuilder.read;
import static io.slidestream.settings.ConfigBuilder.readOptional;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.sink.IcebergOptions.CatalogType;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.iceberg.CatalogProperties;

/**
 * The validated settings of the Iceberg catalog and sinks; each component is the {@link
 * IcebergOptions} key of the same name ({@code catalogUri} and {@code warehouseLocation}, null when
 * unset, are {@code iceberg.uri} and {@code iceberg.warehouse}; {@code extraProperties} is {@code
 * iceberg.catalog-properties}; {@code maintenance} the {@code iceberg.maintenance.*} keys). Every
 * check runs in the constructor and fails with {@code INVALID_CONFIG} naming the key and the bad
 * value.
 */
public record IcebergConfig(
        CatalogType catalogType,
        String catalogName,
        String catalogUri,
        String warehouseLocation,
        String namespace,
        String tilesTable,
        String slidesTable,
        String errorsTable,
        Map<String, String> extraProperties,
        Map<String, String> writeProperties,
        IcebergMaintenance.Settings maintenance)
        implements Serializable {

    /**
     * The JDBC catalog's schema version. V1 adds view support to the catalog tables; SQLite
     * catalogs created without it fail on first use in Iceberg 1.11.
     */
    static final String JDBC_SCHEMA_VERSION = "jdbc.schema-version";

    public IcebergConfig {
        if (catalogType == null) {
            throw InvalidConfig.of(IcebergOptions.CATALOG_TYPE, null, "is not set");
        }
        catalogUri = blankToNull(catalogUri);
        warehouseLocation = blankToNull(warehouseLocation);
        checkName(IcebergOptions.CATALOG_NAME, catalogName);
        checkName(IcebergOptions.NAMESPACE, namespace);
        checkName(IcebergOptions.TILES_TABLE, tilesTable);
        checkName(IcebergOptions.SLIDES_TABLE, slidesTable);
        checkName(IcebergOptions.ERRORS_TABLE, errorsTable);
        String type = catalogType.name().toLowerCase(Locale.ROOT);
        if (catalogType == CatalogType.JDBC
                && (catalogUri == null || !catalogUri.startsWith("jdbc:"))) {
            throw InvalidConfig.of(
                    IcebergOptions.URI,
                    catalogUri,
                    "must be a JDBC URL for iceberg.catalog-type=jdbc, e.g."
                            + " jdbc:sqlite:/data/catalog.db");
        }
        if (catalogType == CatalogType.REST
                && (catalogUri == null
                        || !(catalogUri.startsWith("http://")
                                || catalogUri.startsWith("https://")))) {
            throw InvalidConfig.of(
                    IcebergOptions.URI,
                    catalogUri,
                    "must be the REST catalog's http(s) URL for iceberg.catalog-type=rest");
        }
        if (catalogType != CatalogType.REST && warehouseLocation == null) {
            throw InvalidConfig.of(
                    IcebergOptions.WAREHOUSE,
                    null,
                    "is required for iceberg.catalog-type="
                            + type
                            + ", e.g. file:/data/warehouse or s3://bucket/warehouse");
        }
        extraProperties = Map.copyOf(extraProperties);
        writeProperties = Map.copyOf(writeProperties);
    }

    /** Reads every {@code iceberg.*} key; unset keys take their defaults. */
    public static IcebergConfig from(ReadableConfig conf) {
        return new IcebergConfig(
                read(conf, IcebergOptions.CATALOG_TYPE),
                read(conf, IcebergOptions.CATALOG_NAME),
                readOptional(conf, IcebergOptions.URI),
                readOptional(conf, IcebergOptions.WAREHOUSE),
                read(conf, IcebergOptions.NAMESPACE),
                read(conf, IcebergOptions.TILES_TABLE),
                read(conf, IcebergOptions.SLIDES_TABLE),
                read(conf, IcebergOptions.ERRORS_TABLE),
                read(conf, IcebergOptions.CATALOG_PROPERTIES),
                read(conf, IcebergOptions.WRITE_PROPERTIES),
                IcebergMaintenance.Settings.from(conf));
    }

    /** Keys set in code, read and checked as {@link #from} does. */
    public static ConfigBuilder<IcebergConfig> builder() {
        return new ConfigBuilder<>(IcebergConfig::from);
    }

    /**
     * A JDBC catalog on a SQLite file ({@code <dir>/catalog.db}) with its warehouse in {@code
     * <dir>/warehouse}: the embedded default, no service needed.
     */
    public static IcebergConfig localJdbc(Path dir) {
        Path abs = dir.toAbsolutePath();
        return builder()
                .set(IcebergOptions.CATALOG_TYPE, CatalogType.JDBC)
                .set(IcebergOptions.URI, "jdbc:sqlite:" + abs.resolve("catalog.db"))
                .set(IcebergOptions.WAREHOUSE, abs.resolve("warehouse").toUri().toString())
                .build();
    }

    public Optional<String> uri() {
        return Optional.ofNullable(catalogUri);
    }

    public Optional<String> warehouse() {
        return Optional.ofNullable(warehouseLocation);
    }

    /**
     * The properties the catalog is initialised with: uri and warehouse, {@code
     * jdbc.schema-version=V1} for JDBC unless set, then the extra properties (which win).
     */
    public Map<String, String> catalogProperties() {
        Map<String, String> props = new LinkedHashMap<>();
        if (catalogUri != null && catalogType != CatalogType.HADOOP) {
            props.put(CatalogProperties.URI, catalogUri);
        }
        if (warehouseLocation != null) {
            props.put(CatalogProperties.WAREHOUSE_LOCATION, warehouseLocation);
        }
        if (catalogType == CatalogType.JDBC) {
            props.put(JDBC_SCHEMA_VERSION, "V1");
        }
        props.putAll(extraProperties);
        return props;
    }

    @Override
    public String toString() {
        // Extra properties may hold passwords or credentials: never print them.
        return String.format(
                "IcebergConfig{%s catalog %s, uri=%s, warehouse=%s, namespace=%s}",
                catalogType, catalogName, catalogUri, warehouseLocation, namespace);
    }

    private static void checkName(ConfigOption<String> option, String value) {
        if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw InvalidConfig.of(
                    option,
                    value,
                    "must start with a letter or '_' and hold only letters, digits and '_'");
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}
