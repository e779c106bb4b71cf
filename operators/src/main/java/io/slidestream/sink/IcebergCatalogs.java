package io.slidestream.sink;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.iceberg.IcebergTables.TableDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdatePartitionSpec;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the configured Iceberg catalog and makes SlideStream's tables exist: the namespace and each
 * table are created from {@link IcebergTables} when missing (a creation race with another client is
 * tolerated); an existing table must contain every column of the definition.
 *
 * <p>Every catalog opened here is closed again (a REST catalog owns an HTTP client and a metrics
 * thread, S3FileIO an S3 client and its connection reaper): callers that need a table use {@link
 * #withTable}. A JDBC catalog's driver comes from the class path (on a cluster, its {@code lib/}),
 * where {@code DriverManager} finds it for every job.
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
        try {
            ensureTable(catalog, config, IcebergTables.TILES_TABLE, config.tilesTable());
            ensureTable(catalog, config, IcebergTables.SLIDES_TABLE, config.slidesTable());
            ensureTable(catalog, config, IcebergTables.SLIDE_ERRORS_TABLE, config.errorsTable());
        } finally {
            close(catalog);
        }
    }

    /** Creates table {@code name} from {@code definition} when missing. */
    public static void ensureTable(IcebergConfig config, TableDefinition definition, String name) {
        Catalog catalog = open(config);
        try {
            ensureTable(catalog, config, definition, name);
        } finally {
            close(catalog);
        }
    }

    /**
     * Loads table {@code name} (it must exist), applies {@code use} to it and closes the catalog.
     */
    public static <T> T withTable(IcebergConfig config, String name, Function<Table, T> use) {
        Catalog catalog = open(config);
        try {
            return use.apply(catalog.loadTable(identifier(config, name)));
        } finally {
            close(catalog);
        }
    }

    /** Closes {@code catalog} if it holds resources (HTTP clients, FileIO, connection pools). */
    public static void close(Catalog catalog) {
        if (catalog instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.warn("Closing the Iceberg catalog {} failed: {}", catalog.name(), e.toString());
            }
        }
    }

    /**
     * Opens the catalog, or fails with {@link ErrorCode#STORE_UNAVAILABLE} (or {@link
     * ErrorCode#INVALID_CONFIG} when the catalog answers but refuses the credentials); the caller
     * closes it ({@link #close}).
     */
    public static Catalog open(IcebergConfig config) {
        try {
            return loader(config).loadCatalog();
        } catch (NotAuthorizedException | ForbiddenException refused) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_CONFIG,
                    "The Iceberg "
                            + config.catalogType().name().toLowerCase(java.util.Locale.ROOT)
                            + " catalog at "
                            + config.uri().orElse(config.warehouseLocation())
                            + " refused SlideStream's credentials ("
                            + refused.getClass().getSimpleName()
                            + ": "
                            + refused.getMessage()
                            + "); fix iceberg.catalog-properties.credential (client_id:secret, for"
                            + " OAuth2 client credentials) or iceberg.catalog-properties.token (a"
                            + " bearer token)",
                    refused);
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
        evolveColumns(id, definition, table);
        evolvePartitioning(id, definition, table);
        return table;
    }

    /**
     * Moves a table created with an older partitioning (tiles by day and slide, slides by day) to
     * the one upserts need. Iceberg evolves the spec in place; files written before keep their old
     * layout, which equality deletes do not reach, so the log says how to rewrite them once.
     */
    private static void evolvePartitioning(
            TableIdentifier id, TableDefinition definition, Table table) {
        PartitionSpec target = definition.partitioning();
        if (table.spec().compatibleWith(target)) {
            return;
        }
        UpdatePartitionSpec update = table.updateSpec();
        for (PartitionField field : table.spec().fields()) {
            if (target.fields().stream()
                    .noneMatch(f -> sameField(table.spec(), field, target, f))) {
                update.removeField(field.name());
            }
        }
        for (PartitionField field : target.fields()) {
            if (table.spec().fields().stream()
                    .noneMatch(f -> sameField(target, field, table.spec(), f))) {
                String source = target.schema().findColumnName(field.sourceId());
                update.addField(field.name(), Expressions.transform(source, field.transform()));
            }
        }
        update.commit();
        LOG.warn(
                "Iceberg table {}: partitioning changed to {} so that upserts on {} reach every"
                        + " row. Rows written before keep the old layout and are not replaced by"
                        + " later upserts until rewritten once, e.g. in Spark: CALL"
                        + " <catalog>.system.rewrite_data_files(table => '{}', options =>"
                        + " map('rewrite-all', 'true'))",
                id,
                target,
                definition.upsertKey(),
                id);
    }

    private static boolean sameField(
            PartitionSpec a, PartitionField fa, PartitionSpec b, PartitionField fb) {
        return a.schema()
                        .findColumnName(fa.sourceId())
                        .equals(b.schema().findColumnName(fb.sourceId()))
                && fa.transform().toString().equals(fb.transform().toString());
    }

    /**
     * Brings a table written by an earlier schema version up to {@code definition}: a column whose
     * field id the table has under another name is renamed (version 2 renamed {@code tiles.tile_id}
     * to {@code tile_key}); a missing optional column, or a required one of {@link
     * IcebergTables#ADDED_AS_OPTIONAL}, is added as optional (rows written before read null there).
     * A missing required column, or a column the table has with another type, means the table is
     * not one SlideStream wrote: refused with the table's name.
     */
    private static void evolveColumns(TableIdentifier id, TableDefinition definition, Table table) {
        UpdateSchema update = null;
        List<String> changes = new ArrayList<>();
        for (Types.NestedField column : definition.schema().columns()) {
            Types.NestedField byName = table.schema().findField(column.name());
            if (byName != null) {
                if (!sameType(byName.type(), column.type())) {
                    throw notOurs(id, column, "has it as " + byName.type());
                }
                continue;
            }
            Types.NestedField byId = table.schema().findField(column.fieldId());
            if (byId != null && sameType(byId.type(), column.type())) {
                update = update == null ? table.updateSchema() : update;
                update.renameColumn(byId.name(), column.name());
                changes.add("renamed " + byId.name() + " to " + column.name());
            } else if (column.isOptional()
                    || IcebergTables.ADDED_AS_OPTIONAL.contains(column.fieldId())) {
                update = update == null ? table.updateSchema() : update;
                update.addColumn(column.name(), column.type(), column.doc());
                changes.add("added " + column.name());
            } else {
                throw notOurs(id, column, "lacks it");
            }
        }
        if (update != null) {
            update.commit();
            LOG.warn(
                    "Iceberg table {} evolved to SlideStream's current schema: {}. Rows written"
                            + " before read null in the added columns.",
                    id,
                    String.join(", ", changes));
        }
    }

    /**
     * Whether two column types agree: primitives exactly, nested types by kind (the catalog gives a
     * new table's list elements and struct fields ids of its own).
     */
    private static boolean sameType(Type a, Type b) {
        return a.isPrimitiveType() ? a.equals(b) : a.typeId() == b.typeId();
    }

    private static SlideStreamException notOurs(
            TableIdentifier id, Types.NestedField column, String what) {
        return new SlideStreamException(
                ErrorCode.INVALID_CONFIG,
                "Iceberg table "
                        + id
                        + " "
                        + what
                        + " column '"
                        + column.name()
                        + "' ("
                        + column.type()
                        + ") that SlideStream writes: it is not a table SlideStream created. Use"
                        + " another table name (iceberg.*-table).");
    }
}
