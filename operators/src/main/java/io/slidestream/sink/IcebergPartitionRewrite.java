package io.slidestream.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.util.StructLikeWrapper;

/**
 * Rewrites whole partitions of an Iceberg table from their live rows, without the rows a predicate
 * rejects: every data and delete file of the partition is replaced by one data file that holds the
 * rows as readers see them (deletes applied), so the rejected rows - and the deletes - are gone
 * from the current snapshot. One commit per table, validated against concurrent writers (the new
 * file keeps the starting snapshot's sequence number, so deletes committed meanwhile still apply).
 * {@link #keepOnlyCurrentSnapshot} then removes the files that only older snapshots reference, and
 * carries the Flink sink's commit state forward in its snapshot's summary; with two Flink jobs
 * writing the table, only the last committer's survives the expiry.
 */
public final class IcebergPartitionRewrite {

    private static final String FLINK_MAX_COMMITTED_CHECKPOINT =
            "flink.max-committed-checkpoint-id";

    /** What a rewrite did. */
    public record Outcome(int partitions, long rowsDropped, int filesRemoved, int filesAdded) {}

    private IcebergPartitionRewrite() {}

    /**
     * Rewrites the partitions of {@code table} that hold a row with {@code column} = {@code value},
     * keeping every live row for which {@code keep} holds.
     */
    public static Outcome rewritePartitionsHolding(
            Table table, String column, String value, Predicate<Record> keep) {
        table.refresh();
        Snapshot start = table.currentSnapshot();
        if (start == null) {
            return new Outcome(0, 0, 0, 0);
        }
        java.util.Set<String> holding = new java.util.HashSet<>();
        try (CloseableIterable<org.apache.iceberg.FileScanTask> tasks =
                table.newScan()
                        .useSnapshot(start.snapshotId())
                        .filter(Expressions.equal(column, value))
                        .planFiles()) {
            for (org.apache.iceberg.FileScanTask task : tasks) {
                holding.add(key(table, task.file()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("planning " + table.name() + " failed", e);
        }
        Map<String, PartitionFiles> partitions = allPartitions(table, start);
        partitions.keySet().retainAll(holding);
        return rewrite(table, start, partitions, keep);
    }

    private static Outcome rewrite(
            Table table,
            Snapshot start,
            Map<String, PartitionFiles> partitions,
            Predicate<Record> keep) {
        if (partitions.isEmpty()) {
            return new Outcome(0, 0, 0, 0);
        }
        RewriteFiles rewrite =
                table.newRewrite()
                        .validateFromSnapshot(start.snapshotId())
                        .dataSequenceNumber(start.sequenceNumber());
        long dropped = 0;
        int removed = 0;
        int added = 0;
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
                        .format(FileFormat.PARQUET)
                        .build();
        for (PartitionFiles p : partitions.values()) {
            PartitionSpec spec = table.specs().get(p.sample.specId());
            GenericAppenderFactory factory =
                    new GenericAppenderFactory(table.schema(), spec, null, null, null)
                            .setAll(table.properties());
            DataWriter<Record> writer =
                    factory.newDataWriter(
                            outputFile(files, spec, p.sample.partition()),
                            FileFormat.PARQUET,
                            p.sample.partition());
            long kept = 0;
            try (writer;
                    CloseableIterable<Record> rows =
                            IcebergGenerics.read(table)
                                    .useSnapshot(start.snapshotId())
                                    .where(partitionFilter(table, spec, p.sample.partition()))
                                    .build()) {
                PartitionKey partitionOf = new PartitionKey(spec, table.schema());
                InternalRecordWrapper wrapper =
                        new InternalRecordWrapper(table.schema().asStruct());
                StructLikeWrapper target =
                        StructLikeWrapper.forType(spec.partitionType()).set(p.sample.partition());
                StructLikeWrapper found = StructLikeWrapper.forType(spec.partitionType());
                for (Record row : rows) {
                    partitionOf.partition(wrapper.wrap(row));
                    if (!found.set(partitionOf).equals(target)) {
                        continue; // the filter prunes files; rows of other partitions remain
                    }
                    if (keep.test(row)) {
                        writer.write(row);
                        kept++;
                    } else {
                        dropped++;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("rewriting " + table.name() + " failed", e);
            }
            p.data.forEach(rewrite::deleteFile);
            p.deletes.forEach(rewrite::deleteFile);
            removed += p.data.size() + p.deletes.size();
            if (kept > 0) {
                rewrite.addFile(writer.toDataFile());
                added++;
            } else {
                table.io().deleteFile(writer.toDataFile().location());
            }
        }
        try {
            rewrite.commit();
        } catch (org.apache.iceberg.exceptions.ValidationException
                | org.apache.iceberg.exceptions.CommitFailedException conflict) {
            // A concurrent commit touched the same files: nothing of ours is in the table.
            throw new ConcurrentCommit(table.name(), conflict);
        }
        return new Outcome(partitions.size(), dropped, removed, added);
    }

    /**
     * Makes the current snapshot the table's only one and deletes every file that only the others
     * referenced (data, delete and manifest files, manifest lists). Manifests are first merged by
     * an empty commit, so no manifest of the current snapshot still lists files removed earlier.
     */
    public static void keepOnlyCurrentSnapshot(Table table) {
        table.refresh();
        if (table.currentSnapshot() == null) {
            return;
        }
        String mergeCount = table.properties().get(TableProperties.MANIFEST_MIN_MERGE_COUNT);
        table.updateProperties().set(TableProperties.MANIFEST_MIN_MERGE_COUNT, "1").commit();
        try {
            // Merging writes only live entries: the "deleted" entries of the last commit go.
            AppendFiles merge = table.newAppend();
            carryFlinkCommitState(merge, table);
            merge.commit();
        } finally {
            if (mergeCount == null) {
                table.updateProperties().remove(TableProperties.MANIFEST_MIN_MERGE_COUNT).commit();
            } else {
                table.updateProperties()
                        .set(TableProperties.MANIFEST_MIN_MERGE_COUNT, mergeCount)
                        .commit();
            }
        }
        table.refresh();
        table.expireSnapshots()
                .expireOlderThan(System.currentTimeMillis() + 1)
                .retainLast(1)
                .cleanExpiredFiles(true)
                .commit();
    }

    /**
     * Copies the Flink sink's commit state ({@code flink.job-id}, {@code
     * flink.max-committed-checkpoint-id}, ...) from the newest snapshot that has it: a restarted
     * sink finds the last checkpoint it committed by walking back the snapshots, and once older
     * snapshots are expired ours must tell it, or it would commit that checkpoint's files a second
     * time. Rewrites themselves carry none (the walk passes them): a state copied at their start
     * would be stale if the job committed while they ran.
     */
    private static void carryFlinkCommitState(SnapshotUpdate<?> update, Table table) {
        Snapshot committed = lastFlinkCommit(table);
        if (committed != null) {
            committed
                    .summary()
                    .forEach(
                            (k, v) -> {
                                if (k.startsWith("flink.")) {
                                    update.set(k, v);
                                }
                            });
        }
    }

    /** The newest ancestor of the current snapshot that records a Flink sink's commit, or null. */
    static Snapshot lastFlinkCommit(Table table) {
        for (Snapshot s = table.currentSnapshot();
                s != null;
                s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            if (s.summary().containsKey(FLINK_MAX_COMMITTED_CHECKPOINT)) {
                return s;
            }
        }
        return null;
    }

    /**
     * How many of the newest snapshots an expiry must keep so the Flink sink still finds its last
     * commit walking back from the current snapshot (1 when there is none).
     */
    static int snapshotsToKeepForFlink(Table table) {
        int n = 1;
        for (Snapshot s = table.currentSnapshot();
                s != null;
                s = s.parentId() == null ? null : table.snapshot(s.parentId()), n++) {
            if (s.summary().containsKey(FLINK_MAX_COMMITTED_CHECKPOINT)) {
                return n;
            }
        }
        return 1;
    }

    /** Every partition of {@code snapshot} with its live data and delete files. */
    private static Map<String, PartitionFiles> allPartitions(Table table, Snapshot snapshot) {
        Map<String, PartitionFiles> partitions = new HashMap<>();
        for (ManifestFile manifest : snapshot.dataManifests(table.io())) {
            try (ManifestReader<DataFile> reader =
                    ManifestFiles.read(manifest, table.io(), table.specs())) {
                for (DataFile file : reader) {
                    partitions
                            .computeIfAbsent(key(table, file), k -> new PartitionFiles(file.copy()))
                            .data
                            .add(file.copyWithoutStats());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + manifest.path() + " failed", e);
            }
        }
        forEachDeleteFile(
                table,
                snapshot,
                file ->
                        partitions
                                .computeIfAbsent(key(table, file), k -> new PartitionFiles(file))
                                .deletes
                                .add(file));
        return partitions;
    }

    /**
     * A new file for {@code partition}: with no partition path for an unpartitioned spec (Iceberg
     * would write {@code data//name}, which S3 signs differently from how a server reads it: 403).
     */
    static org.apache.iceberg.encryption.EncryptedOutputFile outputFile(
            OutputFileFactory files, PartitionSpec spec, StructLike partition) {
        return spec.isUnpartitioned()
                ? files.newOutputFile()
                : files.newOutputFile(spec, partition);
    }

    /** Calls {@code action} with every live delete file of {@code snapshot}. */
    static void forEachDeleteFile(
            Table table, Snapshot snapshot, java.util.function.Consumer<DeleteFile> action) {
        for (ManifestFile manifest : snapshot.deleteManifests(table.io())) {
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                for (DeleteFile file : reader) {
                    action.accept(file.copyWithoutStats());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + manifest.path() + " failed", e);
            }
        }
    }

    /** The partition of {@code file} as a key: its spec id and its path ("3/slide_id_bucket=2"). */
    static String key(Table table, ContentFile<?> file) {
        return file.specId()
                + "/"
                + table.specs().get(file.specId()).partitionToPath(file.partition());
    }

    /** The partition's rows by its fields' transforms (pruning only; rows are checked again). */
    private static Expression partitionFilter(
            Table table, PartitionSpec spec, StructLike partition) {
        Expression filter = Expressions.alwaysTrue();
        List<PartitionField> fields = spec.fields();
        for (int i = 0; i < fields.size(); i++) {
            PartitionField field = fields.get(i);
            Object value = partition.get(i, Object.class);
            if (value == null) {
                continue;
            }
            String source = table.schema().findColumnName(field.sourceId());
            @SuppressWarnings("unchecked")
            org.apache.iceberg.expressions.UnboundTerm<Object> term =
                    (org.apache.iceberg.expressions.UnboundTerm<Object>)
                            Expressions.transform(source, field.transform());
            filter = Expressions.and(filter, Expressions.equal(term, value));
        }
        return filter;
    }

    /**
     * Runs {@code rewrite} again, from the table's new state, when a concurrent commit (the job's)
     * conflicted with it; at most {@code attempts} times.
     */
    public static <T> T retrying(int attempts, java.util.function.Supplier<T> rewrite) {
        for (int attempt = 1; ; attempt++) {
            try {
                return rewrite.get();
            } catch (ConcurrentCommit e) {
                if (attempt >= attempts) {
                    throw e;
                }
            }
        }
    }

    /** A rewrite that lost to a concurrent commit and left the table as it was. */
    public static final class ConcurrentCommit extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConcurrentCommit(String table, RuntimeException cause) {
            super("a concurrent commit to " + table + " conflicted with the rewrite", cause);
        }
    }

    /** The files of one partition, and one of its data files to name it by. */
    private static final class PartitionFiles {
        final ContentFile<?> sample;
        final List<DataFile> data = new ArrayList<>();
        final List<DeleteFile> deletes = new ArrayList<>();

        PartitionFiles(ContentFile<?> sample) {
            this.sample = sample;
        }
    }
}
