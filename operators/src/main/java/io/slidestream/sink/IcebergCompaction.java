package io.slidestream.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericDeleteFilter;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;

/**
 * Compacts an upsert table without rewriting what is already compact: in each partition, the small
 * data files and the files that a delete file still applies to are rewritten from their live rows
 * (deletes applied) into files of the target size, and every delete file that then applies to no
 * remaining data file is dropped in the same commit. Which delete applies to which data file is
 * what Iceberg's own scan planning says (partition, sequence number, column bounds), so a delete
 * that could still hide a row of a kept file stays.
 *
 * <p>Why not Iceberg's Flink {@code RewriteDataFiles}: it rewrites data files but keeps every
 * equality delete file (apache/iceberg#16138), and an upsert sink writes one per bucket and commit
 * - they would pile up for ever. One commit per table, validated against concurrent writers: the
 * new files keep the starting snapshot's sequence number, so deletes committed meanwhile (the
 * job's) still apply to them; a conflict leaves the table as it was ({@link
 * IcebergPartitionRewrite.ConcurrentCommit}).
 */
public final class IcebergCompaction {

    /**
     * When a partition is compacted: data files under {@code smallFileBytes} are small, and they
     * are rewritten once there are {@code minSmallFiles} of them (or one with a delete applying to
     * it); rewritten rows go to files of about {@code targetFileBytes}.
     */
    public record Policy(long smallFileBytes, long targetFileBytes, int minSmallFiles)
            implements java.io.Serializable {
        /** Everything that can be compacted is: what {@code slidestream maintain} does. */
        public static Policy thorough(long targetFileBytes) {
            return new Policy(targetFileBytes, targetFileBytes, 2);
        }
    }

    /** What a compaction did: partitions, data files rewritten and written, delete files spent. */
    public record Outcome(int partitions, int filesRemoved, int filesAdded, int deletesDropped) {
        static final Outcome NOTHING = new Outcome(0, 0, 0, 0);
    }

    private IcebergCompaction() {}

    public static Outcome compact(Table table, Policy policy) {
        table.refresh();
        Snapshot start = table.currentSnapshot();
        if (start == null) {
            return Outcome.NOTHING;
        }
        Map<String, Partition> partitions = plan(table, start);
        List<Partition> chosen = new ArrayList<>();
        for (Partition p : partitions.values()) {
            p.choose(policy, task -> deletesHitNothing(table, task));
            if (!p.rewrite.isEmpty() || !p.deletes.isEmpty()) {
                chosen.add(p);
            }
        }
        if (chosen.isEmpty()) {
            return Outcome.NOTHING;
        }
        RewriteFiles commit =
                table.newRewrite()
                        .validateFromSnapshot(start.snapshotId())
                        .dataSequenceNumber(start.sequenceNumber());
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
                        .format(FileFormat.PARQUET)
                        .build();
        int removed = 0;
        int added = 0;
        int deletesDropped = 0;
        for (Partition p : chosen) {
            List<DataFile> written = rewrite(table, files, p, policy.targetFileBytes());
            for (FileScanTask task : p.rewrite) {
                commit.deleteFile(task.file());
                removed++;
            }
            for (DataFile file : written) {
                commit.addFile(file);
                added++;
            }
            // Every delete of the partition is now spent: the files it hid rows of are rewritten,
            // the kept ones have no row it hides, and the new files' sequence number is past it.
            for (DeleteFile delete : p.deletes) {
                commit.deleteFile(delete);
                deletesDropped++;
            }
        }
        try {
            commit.commit();
        } catch (org.apache.iceberg.exceptions.ValidationException
                | org.apache.iceberg.exceptions.CommitFailedException conflict) {
            throw new IcebergPartitionRewrite.ConcurrentCommit(table.name(), conflict);
        }
        return new Outcome(chosen.size(), removed, added, deletesDropped);
    }

    /** The data files of {@code start} by partition, each with the deletes that apply to it. */
    private static Map<String, Partition> plan(Table table, Snapshot start) {
        Map<String, Partition> partitions = new HashMap<>();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().useSnapshot(start.snapshotId()).ignoreResiduals().planFiles()) {
            for (FileScanTask task : tasks) {
                partitions
                        .computeIfAbsent(
                                IcebergPartitionRewrite.key(table, task.file()),
                                k -> new Partition())
                        .tasks
                        .add(task);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("planning " + table.name() + " failed", e);
        }
        IcebergPartitionRewrite.forEachDeleteFile(
                table,
                start,
                delete ->
                        partitions
                                .computeIfAbsent(
                                        IcebergPartitionRewrite.key(table, delete),
                                        k -> new Partition())
                                .deletes
                                .add(delete));
        return partitions;
    }

    /** Writes the live rows of {@code p}'s chosen files into new files of about the target size. */
    private static List<DataFile> rewrite(
            Table table, OutputFileFactory files, Partition p, long targetBytes) {
        List<DataFile> written = new ArrayList<>();
        if (p.rewrite.isEmpty()) {
            return written;
        }
        Schema schema = table.schema();
        DataFile sample = p.rewrite.get(0).file();
        PartitionSpec spec = table.specs().get(sample.specId());
        GenericAppenderFactory factory =
                new GenericAppenderFactory(schema, spec, null, null, null)
                        .setAll(table.properties());
        DataWriter<Record> writer = null;
        try {
            for (FileScanTask task : p.rewrite) {
                try (CloseableIterable<Record> rows = liveRows(table, task)) {
                    for (Record row : rows) {
                        if (writer == null) {
                            writer =
                                    factory.newDataWriter(
                                            IcebergPartitionRewrite.outputFile(
                                                    files, spec, sample.partition()),
                                            FileFormat.PARQUET,
                                            sample.partition());
                        }
                        GenericRecord copy = GenericRecord.create(schema);
                        for (int i = 0; i < schema.columns().size(); i++) {
                            copy.set(i, row.get(i));
                        }
                        writer.write(copy);
                        if (writer.length() >= targetBytes) {
                            writer.close();
                            written.add(writer.toDataFile());
                            writer = null;
                        }
                    }
                }
            }
            if (writer != null) {
                writer.close();
                written.add(writer.toDataFile());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("compacting " + table.name() + " failed", e);
        }
        return written;
    }

    /** The rows of one data file as readers see them: its deletes applied. */
    private static CloseableIterable<Record> liveRows(Table table, FileScanTask task) {
        return liveRows(table, task, table.schema());
    }

    /** The same, reading only {@code columns} (and what the deletes need). */
    private static CloseableIterable<Record> liveRows(
            Table table, FileScanTask task, Schema columns) {
        if (task.file().format() != FileFormat.PARQUET) {
            throw new IllegalStateException(
                    table.name()
                            + " holds a "
                            + task.file().format()
                            + " data file; SlideStream's tables are written as Parquet");
        }
        GenericDeleteFilter deletes =
                new GenericDeleteFilter(table.io(), task, table.schema(), columns);
        Schema read = deletes.requiredSchema();
        return deletes.filter(
                Parquet.read(table.io().newInputFile(task.file()))
                        .project(read)
                        .createReaderFunc(
                                fileSchema -> GenericParquetReaders.buildReader(read, fileSchema))
                        .build());
    }

    /**
     * Whether none of the rows of a compact file is hidden by the deletes that apply to it (a new
     * slide's upsert deletes apply by sequence number to every older file of the bucket, but hide
     * rows only on a re-scan or replay): read through its key columns only, counted against the
     * file's row count.
     */
    private static boolean deletesHitNothing(Table table, FileScanTask task) {
        Schema keys = table.schema().select(table.schema().identifierFieldNames());
        long live = 0;
        try (CloseableIterable<Record> rows = liveRows(table, task, keys)) {
            for (Record ignored : rows) {
                live++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + task.file().location() + " failed", e);
        }
        return live == task.file().recordCount();
    }

    /** One partition's data files (with their deletes), delete files, and the files to rewrite. */
    private static final class Partition {
        final List<FileScanTask> tasks = new ArrayList<>();
        final List<DeleteFile> deletes = new ArrayList<>();
        final List<FileScanTask> rewrite = new ArrayList<>();

        void choose(Policy policy, Predicate<FileScanTask> deletesHitNothing) {
            List<FileScanTask> small = new ArrayList<>();
            for (FileScanTask task : tasks) {
                boolean isSmall = task.file().fileSizeInBytes() < policy.smallFileBytes();
                if (!task.deletes().isEmpty() && (isSmall || !deletesHitNothing.test(task))) {
                    rewrite.add(task);
                } else if (isSmall) {
                    small.add(task);
                } // else compact, and its deletes (if any) hide none of its rows: kept
            }
            if (small.size() >= policy.minSmallFiles() || !rewrite.isEmpty()) {
                rewrite.addAll(small);
            }
            if (rewrite.size() == 1 && rewrite.get(0).deletes().isEmpty()) {
                rewrite.clear(); // one small file alone: nothing to merge it with
            }
        }
    }
}
