package io.slidestream.sink;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.iceberg.IcebergTables.TableDefinition;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the configured Iceberg catalog and makes SlideStream's tables exist: the namespace and each
 * table are created from {@link IcebergTables} when missing (a creation race with another client is
 * tolerated); an existing table must contain every column of the definition.
 */
public final class IcebergCatalogs {
    private static final Logger LOG = LoggerFactory.getLogger(IcebergCatalogs.class);

    private IcebergCatalogs() {}

    /** A serializable loader for the configured catalog (what the Flink sink needs). */
    public static CatalogLoader loader(IcebergConfig config) {
        // Iceberg's Flink module needs a Hadoop Configuration even for JDBC and REST catalogs.
        Configuration hadoop = new Configuration();
        return switch (config.catalogType()) {
            case JDBC ->
                    CatalogLoader.custom(
                            config.catalogName(),
                            config.catalogProperties(),
                            hadoop,
                            JdbcCatalog.class.getName());
            case HADOOP ->
                    CatalogLoader.hadoop(config.catalogName(), hadoop, config.catalogProperties());
            case REST ->
                    CatalogLoader.rest(config.catalogName(), hadoop, config.catalogProperties());
        };
    }

    /** A loader for table {@code name} of the configured namespace. */
    public static TableLoader tableLoader(IcebergConfig config, String name) {
        return TableLoader.fromCatalog(loader(config), identifier(config, name));
    }

    public static TableIdentifier identifier(IcebergConfig config, String name) {
        return TableIdentifier.of(Namespace.of(config.namespace()), name);
    }

    /** Creates the tiles, slides and slide_errors tables when missing. */
    public static void ensureTables(IcebergConfig config) {
        Catalog catalog = open(config);
        ensureTable(catalog, config, IcebergTables.TILES_TABLE, config.tilesTable());
        ensureTable(catalog, config, IcebergTables.SLIDES_TABLE, config.slidesTable());
        ensureTable(catalog, config, IcebergTables.SLIDE_ERRORS_TABLE, config.errorsTable());
    }

    /** Creates table {@code name} from {@code definition} when missing and returns it. */
    public static Table ensureTable(IcebergConfig config, TableDefinition definition, String name) {
        return ensureTable(open(config), config, definition, name);
    }

    /** Loads table {@code name} (it must exist). */
    public static Table loadTable(IcebergConfig config, String name) {
        return open(config).loadTable(identifier(config, name));
    }

    /** Opens the catalog, or fails with {@link ErrorCode#STORE_UNAVAILABLE}. */
    public static Catalog open(IcebergConfig config) {
        try {
            return loader(config).loadCatalog();
        } catch (RuntimeException e) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "Could not open the Iceberg "
                            + config.catalogType().name().toLowerCase(java.util.Locale.ROOT)
                            + " catalog ("
                            + config
                            + "): "
                            + e.getMessage()
                            + ". Check iceberg.uri, iceberg.warehouse and"
                            + " iceberg.catalog-properties.",
                    e);
        }
    }

    private static Table ensureTable(
            Catalog catalog, IcebergConfig config, TableDefinition definition, String name) {
        Namespace namespace = Namespace.of(config.namespace());
        if (catalog instanceof SupportsNamespaces namespaces
                && !namespaces.namespaceExists(namespace)) {
            try {
                namespaces.createNamespace(namespace);
            } catch (AlreadyExistsException createdMeanwhile) {
                // Another client created it first: fine.
            }
        }
        TableIdentifier id = TableIdentifier.of(namespace, name);
        Table table;
        if (catalog.tableExists(id)) {
            table = catalog.loadTable(id);
        } else {
            try {
                table =
                        catalog.createTable(
                                id,
                                definition.schema(),
                                definition.partitioning(),
                                IcebergTables.TABLE_PROPERTIES);
                LOG.info("Created Iceberg table {} ({})", id, definition.partitioning());
            } catch (AlreadyExistsException createdMeanwhile) {
                table = catalog.loadTable(id);
            }
        }
        checkColumns(id, definition, table);
        return table;
    }

    private static void checkColumns(TableIdentifier id, TableDefinition definition, Table table) {
        for (Types.NestedField column : definition.schema().columns()) {
            if (table.schema().findField(column.name()) == null) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_CONFIG,
                        "Iceberg table "
                                + id
                                + " exists without column '"
                                + column.name()
                                + "' that SlideStream writes. Use another table name"
                                + " (iceberg.*-table) or evolve the table to add it.");
            }
        }
    }
}
