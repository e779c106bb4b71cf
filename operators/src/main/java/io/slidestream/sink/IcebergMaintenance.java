package io.slidestream.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * Keeps an Iceberg table small and quick to read, at once ({@code slidestream maintain}): every
 * partition with more than one data file or any delete file rewritten into one data file of its
 * live rows ({@link IcebergPartitionRewrite#compact}: equality deletes applied and dropped),
 * snapshots expired by age (keeping a minimum) with the files only they referenced, files nothing
 * references removed once old enough, and the metadata history bounded. {@link #state} counts what
 * a table holds, before and after.
 */
public final class IcebergMaintenance {

    /** The {@code iceberg.maintenance.*} keys. */
    public record Settings(
            Duration snapshotMaxAge,
            int snapshotsMin,
            Duration orphanMinAge,
            int metadataVersions) {
        public static Settings from(ReadableConfig conf) {
            return new Settings(
                    conf.get(IcebergOptions.MAINTENANCE_SNAPSHOT_MAX_AGE),
                    conf.get(IcebergOptions.MAINTENANCE_SNAPSHOTS_MIN),
                    conf.get(IcebergOptions.MAINTENANCE_ORPHAN_MIN_AGE),
                    conf.get(IcebergOptions.MAINTENANCE_METADATA_VERSIONS));
        }
    }

    /** What a table holds: live rows, files of the current snapshot, history, bytes on storage. */
    public record State(
            long rows,
            int dataFiles,
            int deleteFiles,
            int snapshots,
            int metadataFiles,
            long bytes) {}

    /** One table's maintenance: before, after, and what was done. */
    public record Report(
            String table,
            State before,
            State after,
            IcebergPartitionRewrite.Outcome rewrite,
            int orphansRemoved) {}

    private IcebergMaintenance() {}

    public static Report maintain(Table table, Settings settings) {
        State before = state(table);
        String versions = Integer.toString(settings.metadataVersions());
        if (!"true"
                        .equals(
                                table.properties()
                                        .get(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED))
                || !versions.equals(
                        table.properties().get(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX))) {
            table.updateProperties()
                    .set(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true")
                    .set(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, versions)
                    .commit();
        }
        IcebergPartitionRewrite.Outcome rewrite =
                IcebergPartitionRewrite.retrying(3, () -> IcebergPartitionRewrite.compact(table));
        table.refresh();
        if (table.currentSnapshot() != null) {
            table.expireSnapshots()
                    .expireOlderThan(
                            System.currentTimeMillis() - settings.snapshotMaxAge().toMillis())
                    .retainLast(Math.max(1, settings.snapshotsMin()))
                    .cleanExpiredFiles(true)
                    .commit();
        }
        int orphans = removeOrphans(table, settings.orphanMinAge());
        return new Report(table.name(), before, state(table), rewrite, orphans);
    }

    /** What {@code table} holds now. */
    public static State state(Table table) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        int data = 0;
        int deletes = 0;
        if (current != null) {
            for (ManifestFile manifest : current.allManifests(table.io())) {
                if (manifest.content() == ManifestContent.DATA) {
                    data += manifest.addedFilesCount() + manifest.existingFilesCount();
                } else {
                    deletes += manifest.addedFilesCount() + manifest.existingFilesCount();
                }
            }
        }
        int snapshots = 0;
        for (Snapshot ignored : table.snapshots()) {
            snapshots++;
        }
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        long bytes = -1;
        if (table.io() instanceof SupportsPrefixOperations files) {
            bytes = 0;
            for (FileInfo f : files.listPrefix(table.location())) {
                bytes += f.size();
            }
        }
        return new State(
                rows(table), data, deletes, snapshots, metadata.previousFiles().size() + 1, bytes);
    }

    private static long rows(Table table) {
        long n = 0;
        String column = table.schema().columns().get(0).name();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).select(column).build()) {
            for (Record ignored : rows) {
                n++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("counting the rows of " + table.name() + " failed", e);
        }
        return n;
    }

    /**
     * Deletes the files under the table's location that neither a snapshot (manifest lists,
     * manifests, data and delete files) nor the metadata log references and that are older than
     * {@code minAge}; how many. Tables whose storage cannot list files are left alone.
     */
    private static int removeOrphans(Table table, Duration minAge) {
        if (!(table.io() instanceof SupportsPrefixOperations files)) {
            return 0;
        }
        table.refresh();
        Set<String> referenced = new HashSet<>();
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        referenced.add(path(metadata.metadataFileLocation()));
        metadata.previousFiles().forEach(e -> referenced.add(path(e.file())));
        metadata.statisticsFiles().forEach(f -> referenced.add(path(f.path())));
        for (Snapshot snapshot : table.snapshots()) {
            referenced.add(path(snapshot.manifestListLocation()));
            for (ManifestFile manifest : snapshot.allManifests(table.io())) {
                referenced.add(path(manifest.path()));
                if (manifest.content() == ManifestContent.DATA) {
                    try (CloseableIterable<String> paths =
                            ManifestFiles.readPaths(manifest, table.io(), table.specs())) {
                        paths.forEach(p -> referenced.add(path(p)));
                    } catch (IOException e) {
                        throw new UncheckedIOException("reading " + manifest.path(), e);
                    }
                } else {
                    try (ManifestReader<DeleteFile> reader =
                            ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                        reader.forEach(f -> referenced.add(path(f.location())));
                    } catch (IOException e) {
                        throw new UncheckedIOException("reading " + manifest.path(), e);
                    }
                }
            }
        }
        long before = System.currentTimeMillis() - minAge.toMillis();
        int removed = 0;
        for (FileInfo f : files.listPrefix(table.location())) {
            String p = path(f.location());
            if (!referenced.contains(p)
                    && f.createdAtMillis() < before
                    && !p.endsWith("version-hint.text")) {
                table.io().deleteFile(f.location());
                removed++;
            }
        }
        return removed;
    }

    /** A location without its scheme's variations (file:/x, file:///x), to compare. */
    private static String path(String location) {
        return location.replaceFirst("^file:/+", "/").replaceFirst("^([a-z0-9]+):/+", "$1://");
    }
}
