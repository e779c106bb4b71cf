package io.slidestream.sink;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergOptions.CatalogType;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.iceberg.CatalogProperties;

/**
 * Validated, immutable settings of the Iceberg catalog and sinks, read once from {@link
 * IcebergOptions} ({@link #fromConfiguration}) or built in code ({@link #builder}, {@link
 * #localJdbc}). Failures are {@link ErrorCode#INVALID_CONFIG} with the key and the bad value.
 */
public final class IcebergConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The JDBC catalog's schema version. V1 adds view support to the catalog tables; SQLite
     * catalogs created without it fail on first use in Iceberg 1.11.
     */
    static final String JDBC_SCHEMA_VERSION = "jdbc.schema-version";

    private final CatalogType catalogType;
    private final String catalogName;
    private final String uri;
    private final String warehouse;
    private final String namespace;
    private final String tilesTable;
    private final String slidesTable;
    private final String errorsTable;
    private final Map<String, String> catalogProperties;
    private final Map<String, String> writeProperties;

    private IcebergConfig(Builder b) {
        this.catalogType = b.catalogType;
        this.catalogName = b.catalogName;
        this.uri = b.uri;
        this.warehouse = b.warehouse;
        this.namespace = b.namespace;
        this.tilesTable = b.tilesTable;
        this.slidesTable = b.slidesTable;
        this.errorsTable = b.errorsTable;
        this.catalogProperties = Map.copyOf(b.catalogProperties);
        this.writeProperties = Map.copyOf(b.writeProperties);
    }

    /** Reads and validates every {@code iceberg.*} key. */
    public static IcebergConfig fromConfiguration(ReadableConfig conf) {
        Builder b =
                builder()
                        .catalogType(conf.get(IcebergOptions.CATALOG_TYPE))
                        .catalogName(conf.get(IcebergOptions.CATALOG_NAME))
                        .namespace(conf.get(IcebergOptions.NAMESPACE))
                        .tilesTable(conf.get(IcebergOptions.TILES_TABLE))
                        .slidesTable(conf.get(IcebergOptions.SLIDES_TABLE))
                        .errorsTable(conf.get(IcebergOptions.ERRORS_TABLE))
                        .catalogProperties(conf.get(IcebergOptions.CATALOG_PROPERTIES))
                        .writeProperties(conf.get(IcebergOptions.WRITE_PROPERTIES));
        conf.getOptional(IcebergOptions.URI).ifPresent(b::uri);
        conf.getOptional(IcebergOptions.WAREHOUSE).ifPresent(b::warehouse);
        return b.build();
    }

    /**
     * A JDBC catalog on a SQLite file ({@code <dir>/catalog.db}) with its warehouse in {@code
     * <dir>/warehouse}: the embedded default, no service needed.
     */
    public static IcebergConfig localJdbc(Path dir) {
        Path abs = dir.toAbsolutePath();
        return builder()
                .catalogType(CatalogType.JDBC)
                .uri("jdbc:sqlite:" + abs.resolve("catalog.db"))
                .warehouse(abs.resolve("warehouse").toUri().toString())
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public CatalogType catalogType() {
        return catalogType;
    }

    public String catalogName() {
        return catalogName;
    }

    public Optional<String> uri() {
        return Optional.ofNullable(uri);
    }

    public Optional<String> warehouse() {
        return Optional.ofNullable(warehouse);
    }

    public String namespace() {
        return namespace;
    }

    public String tilesTable() {
        return tilesTable;
    }

    public String slidesTable() {
        return slidesTable;
    }

    public String errorsTable() {
        return errorsTable;
    }

    public Map<String, String> writeProperties() {
        return writeProperties;
    }

    /**
     * The properties the catalog is initialised with: uri and warehouse, {@code
     * jdbc.schema-version=V1} for JDBC unless set, then the extra properties (which win).
     */
    public Map<String, String> catalogProperties() {
        Map<String, String> props = new LinkedHashMap<>();
        if (uri != null && catalogType != CatalogType.HADOOP) {
            props.put(CatalogProperties.URI, uri);
        }
        if (warehouse != null) {
            props.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse);
        }
        if (catalogType == CatalogType.JDBC) {
            props.put(JDBC_SCHEMA_VERSION, "V1");
        }
        props.putAll(catalogProperties);
        return props;
    }

    @Override
    public String toString() {
        // Extra properties may hold passwords or credentials: never print them.
        return "IcebergConfig{"
                + catalogType
                + " catalog "
                + catalogName
                + ", uri="
                + uri
                + ", warehouse="
                + warehouse
                + ", namespace="
                + namespace
                + "}";
    }

    /** Builds an {@link IcebergConfig}; defaults are those of {@link IcebergOptions}. */
    public static final class Builder {
        private CatalogType catalogType = IcebergOptions.CATALOG_TYPE.defaultValue();
        private String catalogName = IcebergOptions.CATALOG_NAME.defaultValue();
        private String uri;
        private String warehouse;
        private String namespace = IcebergOptions.NAMESPACE.defaultValue();
        private String tilesTable = IcebergOptions.TILES_TABLE.defaultValue();
        private String slidesTable = IcebergOptions.SLIDES_TABLE.defaultValue();
        private String errorsTable = IcebergOptions.ERRORS_TABLE.defaultValue();
        private Map<String, String> catalogProperties = new LinkedHashMap<>();
        private Map<String, String> writeProperties = new LinkedHashMap<>();

        private Builder() {}

        public Builder catalogType(CatalogType value) {
            this.catalogType = Objects.requireNonNull(value, "catalogType");
            return this;
        }

        public Builder catalogName(String value) {
            this.catalogName = value;
            return this;
        }

        public Builder uri(String value) {
            this.uri = value == null || value.isBlank() ? null : value.trim();
            return this;
        }

        public Builder warehouse(String value) {
            this.warehouse = value == null || value.isBlank() ? null : value.trim();
            return this;
        }

        public Builder namespace(String value) {
            this.namespace = value;
            return this;
        }

        public Builder tilesTable(String value) {
            this.tilesTable = value;
            return this;
        }

        public Builder slidesTable(String value) {
            this.slidesTable = value;
            return this;
        }

        public Builder errorsTable(String value) {
            this.errorsTable = value;
            return this;
        }

        public Builder catalogProperties(Map<String, String> value) {
            this.catalogProperties = new LinkedHashMap<>(value);
            return this;
        }

        public Builder writeProperties(Map<String, String> value) {
            this.writeProperties = new LinkedHashMap<>(value);
            return this;
        }

        /** Validates every value and builds the config. */
        public IcebergConfig build() {
            checkName(IcebergOptions.CATALOG_NAME.key(), catalogName);
            checkName(IcebergOptions.NAMESPACE.key(), namespace);
            checkName(IcebergOptions.TILES_TABLE.key(), tilesTable);
            checkName(IcebergOptions.SLIDES_TABLE.key(), slidesTable);
            checkName(IcebergOptions.ERRORS_TABLE.key(), errorsTable);
            switch (catalogType) {
                case JDBC -> {
                    if (uri == null || !uri.startsWith("jdbc:")) {
                        throw InvalidConfig.of(
                                IcebergOptions.URI.key(),
                                uri,
                                "must be a JDBC URL for iceberg.catalog-type=jdbc, e.g."
                                        + " jdbc:sqlite:/data/catalog.db");
                    }
                    requireWarehouse();
                }
                case HADOOP -> requireWarehouse();
                case REST -> {
                    if (uri == null || !(uri.startsWith("http://") || uri.startsWith("https://"))) {
                        throw InvalidConfig.of(
                                IcebergOptions.URI.key(),
                                uri,
                                "must be the REST catalog's http(s) URL for"
                                        + " iceberg.catalog-type=rest");
                    }
                }
            }
            return new IcebergConfig(this);
        }

        private void requireWarehouse() {
            if (warehouse == null) {
                throw InvalidConfig.of(
                        IcebergOptions.WAREHOUSE.key(),
                        null,
                        "is required for iceberg.catalog-type="
                                + catalogType.name().toLowerCase(java.util.Locale.ROOT)
                                + ", e.g. file:/data/warehouse or s3://bucket/warehouse");
            }
        }

        private static void checkName(String key, String value) {
            if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw InvalidConfig.of(
                        key,
                        value,
                        "must start with a letter or '_' and hold only letters, digits and '_'");
            }
        }
    }
}
