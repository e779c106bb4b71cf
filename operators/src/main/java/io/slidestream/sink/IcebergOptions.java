package io.slidestream.sink;

import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/**
 * Configuration keys of the Iceberg catalog and sinks ({@code iceberg.*}). Read once into an {@link
 * IcebergConfig}, which validates them.
 */
public final class IcebergOptions {

    /** The kinds of catalog SlideStream can write through. */
    public enum CatalogType {
        /** A JDBC catalog (SQLite file for local runs, PostgreSQL in production). */
        JDBC,
        /** A Hadoop catalog: metadata as files in the warehouse, no service. */
        HADOOP,
        /** An Iceberg REST catalog (Polaris, Nessie, Lakekeeper, Tabular...). */
        REST
    }

    public static final ConfigOption<CatalogType> CATALOG_TYPE =
            ConfigOptions.key("iceberg.catalog-type")
                    .enumType(CatalogType.class)
                    .defaultValue(CatalogType.JDBC)
                    .withDescription("Catalog kind: jdbc, hadoop or rest.");

    public static final ConfigOption<String> CATALOG_NAME =
            ConfigOptions.key("iceberg.catalog-name")
                    .stringType()
                    .defaultValue("slidestream")
                    .withDescription("Name of the catalog (JDBC catalogs keep it in each row).");

    public static final ConfigOption<String> URI =
            ConfigOptions.key("iceberg.uri")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Catalog endpoint: a JDBC URL (jdbc:sqlite:/path/catalog.db,"
                                    + " jdbc:postgresql://...) or a REST catalog URL. Not used by"
                                    + " the hadoop catalog.");

    public static final ConfigOption<String> WAREHOUSE =
            ConfigOptions.key("iceberg.warehouse")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Where data and metadata files go: file:/path, s3://bucket/path ..."
                                    + " Required for jdbc and hadoop; optional for rest.");

    public static final ConfigOption<String> NAMESPACE =
            ConfigOptions.key("iceberg.namespace")
                    .stringType()
                    .defaultValue("slidestream")
                    .withDescription("Namespace (database) of the tables; created when missing.");

    public static final ConfigOption<String> TILES_TABLE =
            ConfigOptions.key("iceberg.tiles-table")
                    .stringType()
                    .defaultValue("tiles")
                    .withDescription("Table of tile embeddings.");

    public static final ConfigOption<String> SLIDES_TABLE =
            ConfigOptions.key("iceberg.slides-table")
                    .stringType()
                    .defaultValue("slides")
                    .withDescription("Table of slide results.");

    public static final ConfigOption<String> ERRORS_TABLE =
            ConfigOptions.key("iceberg.errors-table")
                    .stringType()
                    .defaultValue("slide_errors")
                    .withDescription("Table of failed slides and undecodable events.");

    public static final ConfigOption<Map<String, String>> CATALOG_PROPERTIES =
            ConfigOptions.key("iceberg.catalog-properties")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Extra catalog properties passed through unchanged, e.g."
                                    + " jdbc.user:u,jdbc.password:p or io-impl:org.apache.iceberg.aws.s3.S3FileIO;"
                                    + " quote values that hold ':' or ',' (credential:'id:secret').");

    public static final ConfigOption<Map<String, String>> WRITE_PROPERTIES =
            ConfigOptions.key("iceberg.write-properties")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Iceberg Flink write options for every sink, e.g."
                                    + " 'distribution-mode:hash,target-file-size-bytes:134217728'.");

    public static final ConfigOption<Duration> MAINTENANCE_SNAPSHOT_MAX_AGE =
            ConfigOptions.key("iceberg.maintenance.snapshot-max-age")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "Maintenance expires snapshots older than this (keeping at least"
                                    + " iceberg.maintenance.snapshots-min), and the files only they"
                                    + " reference.");

    public static final ConfigOption<Integer> MAINTENANCE_SNAPSHOTS_MIN =
            ConfigOptions.key("iceberg.maintenance.snapshots-min")
                    .intType()
                    .defaultValue(5)
                    .withDescription("Snapshots maintenance keeps whatever their age.");

    public static final ConfigOption<Duration> MAINTENANCE_ORPHAN_MIN_AGE =
            ConfigOptions.key("iceberg.maintenance.orphan-min-age")
                    .durationType()
                    .defaultValue(Duration.ofDays(1))
                    .withDescription(
                            "Maintenance deletes files under a table's location that no snapshot"
                                    + " or metadata file references once they are this old (younger"
                                    + " ones may be a commit in progress).");

    public static final ConfigOption<Integer> MAINTENANCE_METADATA_VERSIONS =
            ConfigOptions.key("iceberg.maintenance.metadata-versions")
                    .intType()
                    .defaultValue(20)
                    .withDescription(
                            "metadata.json versions a table keeps: maintenance sets"
                                    + " write.metadata.delete-after-commit.enabled and"
                                    + " write.metadata.previous-versions-max to it.");

    public static final ConfigOption<Integer> MAINTENANCE_EVERY_CHECKPOINTS =
            ConfigOptions.key("iceberg.maintenance.every-checkpoints")
                    .intType()
                    .defaultValue(60)
                    .withDescription(
                            "The running job maintains its three tables (compaction, snapshot"
                                    + " expiry, orphan files, metadata history) in the background"
                                    + " after this many completed checkpoints (each commits to"
                                    + " every table with new rows); 0 leaves it to slidestream"
                                    + " maintain.");

    public static final ConfigOption<Integer> MAINTENANCE_MIN_SMALL_FILES =
            ConfigOptions.key("iceberg.maintenance.min-small-files")
                    .intType()
                    .defaultValue(8)
                    .withDescription(
                            "The job compacts a partition's small data files (under 3/4 of"
                                    + " iceberg.maintenance.target-file-size) once it has this"
                                    + " many, or sooner when a delete applies to one of them.");

    public static final ConfigOption<MemorySize> MAINTENANCE_TARGET_FILE_SIZE =
            ConfigOptions.key("iceberg.maintenance.target-file-size")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(128))
                    .withDescription("Size of the data files compaction writes.");

    private IcebergOptions() {}
}
