package io.slidestream.sink;

import io.slidestream.errors.InvalidConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
 * Keeps an Iceberg table small and quick to read - in the running job every few commits ({@link
 * IcebergUpkeep}) and at once ({@code slidestream maintain}): small files and the files deletes
 * apply to rewritten and the spent deletes dropped ({@link IcebergCompaction}), snapshots expired
 * by age (keeping a minimum, and always the Flink sink's last commit) with the files only they
 * referenced, files nothing references removed once old enough, and the metadata history bounded.
 * {@link #state} counts what a table holds, before and after.
 */
public final class IcebergMaintenance {

    /** The {@code iceberg.maintenance.*} keys. */
    public record Settings(
            Duration snapshotMaxAge,
            int snapshotsMin,
            Duration orphanMinAge,
            int metadataVersions,
            int everyCheckpoints,
            IcebergCompaction.Policy compaction)
            implements java.io.Serializable {
        /** The keys' values, for the running job (compaction waits for a few small files). */
        public static Settings from(ReadableConfig conf) {
            long target = conf.get(IcebergOptions.MAINTENANCE_TARGET_FILE_SIZE).getBytes();
            int minSmall = conf.get(IcebergOptions.MAINTENANCE_MIN_SMALL_FILES);
            Settings settings =
                    new Settings(
                            conf.get(IcebergOptions.MAINTENANCE_SNAPSHOT_MAX_AGE),
                            conf.get(IcebergOptions.MAINTENANCE_SNAPSHOTS_MIN),
                            conf.get(IcebergOptions.MAINTENANCE_ORPHAN_MIN_AGE),
                            conf.get(IcebergOptions.MAINTENANCE_METADATA_VERSIONS),
                            conf.get(IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS),
                            new IcebergCompaction.Policy(target * 3 / 4, target, minSmall));
            InvalidConfig.check(
                    settings.snapshotsMin >= 1,
                    IcebergOptions.MAINTENANCE_SNAPSHOTS_MIN,
                    settings.snapshotsMin,
                    "at least 1");
            InvalidConfig.check(
                    settings.metadataVersions >= 1,
                    IcebergOptions.MAINTENANCE_METADATA_VERSIONS,
                    settings.metadataVersions,
                    "at least 1");
            InvalidConfig.check(
                    settings.everyCheckpoints >= 0,
                    IcebergOptions.MAINTENANCE_EVERY_CHECKPOINTS,
                    settings.everyCheckpoints,
                    "0 (off) or more");
            InvalidConfig.check(
                    minSmall >= 2,
                    IcebergOptions.MAINTENANCE_MIN_SMALL_FILES,
                    minSmall,
                    "2 or more");
            InvalidConfig.check(
                    target >= 1 << 20,
                    IcebergOptions.MAINTENANCE_TARGET_FILE_SIZE,
                    target,
                    "at least 1 mb");
            return settings;
        }

        /** The same, compacting everything that can be: what {@code slidestream maintain} does. */
        public Settings thorough() {
            return new Settings(
                    snapshotMaxAge,
                    snapshotsMin,
                    orphanMinAge,
                    metadataVersions,
                    everyCheckpoints,
                    IcebergCompaction.Policy.thorough(compaction.targetFileBytes()));
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
            IcebergCompaction.Outcome compaction,
            int orphansRemoved) {}

    private IcebergMaintenance() {}

    /** Maintains {@code table}, reporting its whole {@link #state} before and after. */
    public static Report maintain(Table table, Settings settings) {
        return maintain(table, settings, true);
    }

    /**
     * Maintains {@code table}; without {@code measure} the report leaves out the rows and bytes
     * (-1), which would read every row and list every file of the table: the running job maintains
     * every few minutes and reports only files and snapshots.
     */
    public static Report maintain(Table table, Settings settings, boolean measure) {
        State before = state(table, measure);
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
        IcebergCompaction.Outcome compaction =
                IcebergPartitionRewrite.retrying(
                        3, () -> IcebergCompaction.compact(table, settings.compaction()));
        table.refresh();
        if (table.currentSnapshot() != null) {
            table.expireSnapshots()
                    .expireOlderThan(
                            System.currentTimeMillis() - settings.snapshotMaxAge().toMillis())
                    .retainLast(
                            Math.max(
                                    settings.snapshotsMin(),
                                    IcebergPartitionRewrite.snapshotsToKeepForFlink(table)))
                    .cleanExpiredFiles(true)
                    .commit();
        }
        int orphans = removeOrphans(table, settings.orphanMinAge());
        return new Report(table.name(), before, state(table, measure), compaction, orphans);
    }

    /** What {@code table} holds now. */
    public static State state(Table table) {
        return state(table, true);
    }

    /** The same; without {@code measure}, rows and bytes are -1 (neither is read or listed). */
    private static State state(Table table, boolean measure) {
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
        Iterable<FileInfo> files = measure ? files(table) : null;
        if (files != null) {
            bytes = 0;
            for (FileInfo f : files) {
                bytes += f.size();
            }
        }
        return new State(
                measure ? rows(table) : -1,
                data,
                deletes,
                snapshots,
                metadata.previousFiles().size() + 1,
                bytes);
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
        Iterable<FileInfo> files = files(table);
        if (files == null) {
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
        for (FileInfo f : files) {
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

    /**
     * The files under the table's location, or null when its storage cannot list them. On a local
     * file system the folders are walked directly: Hadoop's listing fails outright when a file it
     * listed is gone before it reads its permissions, and the running job's sink deletes its
     * temporary manifests every commit.
     */
    private static Iterable<FileInfo> files(Table table) {
        String location = table.location();
        if (location.startsWith("file:") || location.startsWith("/")) {
            Path root =
                    location.startsWith("/") ? Path.of(location) : Path.of(URI.create(location));
            List<FileInfo> files = new ArrayList<>();
            try {
                Files.walkFileTree(
                        root,
                        new SimpleFileVisitor<>() {
                            @Override
                            public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
                                files.add(
                                        new FileInfo(
                                                file.toUri().toString(),
                                                a.size(),
                                                a.creationTime().toMillis()));
                                return FileVisitResult.CONTINUE;
                            }

                            @Override
                            public FileVisitResult visitFileFailed(Path file, IOException e)
                                    throws IOException {
                                if (e instanceof NoSuchFileException) {
                                    return FileVisitResult.CONTINUE; // deleted meanwhile
                                }
                                throw e;
                            }
                        });
            } catch (NoSuchFileException nothingYet) {
                return files;
            } catch (IOException e) {
                throw new UncheckedIOException("listing " + location + " failed", e);
            }
            return files;
        }
        if (table.io() instanceof SupportsPrefixOperations prefixes) {
            return prefixes.listPrefix(location);
        }
        return null;
    }

    /** A location without its scheme's variations (file:/x, file:///x), to compare. */
    private static String path(String location) {
        return location.replaceFirst("^file:/+", "/").replaceFirst("^([a-z0-9]+):/+", "$1://");
    }
}
