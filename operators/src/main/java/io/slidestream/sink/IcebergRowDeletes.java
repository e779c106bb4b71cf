package io.slidestream.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.util.StructLikeWrapper;

/**
 * Deletes the rows of an Iceberg table whose string column equals a value, row by row and in one
 * commit: an equality delete on that column in every partition that holds a data file with such
 * rows. Works whatever the files hold beside those rows and whatever their column statistics say
 * (Iceberg truncates string bounds to 16 characters, so a file-wise delete by filter cannot prove
 * that a file holds one model's rows only). The rows stay in the data files until a rewrite.
 */
public final class IcebergRowDeletes {

    private IcebergRowDeletes() {}

    /**
     * Deletes the rows of {@code table} where {@code column} equals {@code value}; returns the
     * number of delete files committed (0 when no data file can hold such rows).
     */
    public static int deleteWhere(Table table, String column, String value) {
        table.refresh();
        Map<StructLikeWrapper, DataFile> partitions = new LinkedHashMap<>();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().filter(Expressions.equal(column, value)).planFiles()) {
            for (FileScanTask task : tasks) {
                DataFile file = task.file();
                PartitionSpec spec = table.specs().get(file.specId());
                partitions.putIfAbsent(
                        StructLikeWrapper.forType(spec.partitionType()).set(file.partition()),
                        file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("planning the delete in " + table.name() + " failed", e);
        }
        if (partitions.isEmpty()) {
            return 0;
        }
        Schema schema = table.schema();
        int field = schema.findField(column).fieldId();
        Schema deleteSchema = TypeUtil.select(schema, Set.of(field));
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
                        .format(FileFormat.PARQUET)
                        .build();
        RowDelta delta = table.newRowDelta();
        for (DataFile file : partitions.values()) {
            PartitionSpec spec = table.specs().get(file.specId());
            StructLike partition = file.partition();
            GenericAppenderFactory factory =
                    new GenericAppenderFactory(
                            table,
                            schema,
                            spec,
                            table.properties(),
                            new int[] {field},
                            deleteSchema,
                            null);
            EqualityDeleteWriter<Record> writer =
                    factory.newEqDeleteWriter(
                            IcebergPartitionRewrite.outputFile(files, spec, partition),
                            FileFormat.PARQUET,
                            partition);
            try (writer) {
                Record key = GenericRecord.create(deleteSchema);
                key.setField(column, value);
                writer.write(key);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "writing a delete file for " + table.name() + " failed", e);
            }
            delta.addDeletes(writer.toDeleteFile());
        }
        delta.commit();
        return partitions.size();
    }
}
