package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction of an upsert table written as the Flink sink writes one: each commit adds a data file
 * and an equality delete of the same keys (which hides older rows only). The table is a real
 * Iceberg table in a SQLite JDBC catalog.
 */
class IcebergCompactionTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "slide_id", Types.StringType.get()),
                            Types.NestedField.required(2, "n", Types.IntegerType.get()),
                            Types.NestedField.optional(3, "value", Types.StringType.get())),
                    Set.of(1, 2));

    /** One bucket: every file shares the partition, so every delete may apply to older files. */
    private static final PartitionSpec SPEC =
            PartitionSpec.builderFor(SCHEMA).bucket("slide_id", 1).build();

    @TempDir Path dir;

    private Catalog catalog;
    private Table table;
    private int fileCount;

    @BeforeEach
    void createTable() {
        catalog = IcebergCatalogs.open(IcebergConfig.localJdbc(dir));
        ((SupportsNamespaces) catalog).createNamespace(Namespace.of("t"));
        table =
                catalog.createTable(
                        TableIdentifier.of("t", "upserts"),
                        SCHEMA,
                        SPEC,
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
    }

    @AfterEach
    void closeCatalog() {
        IcebergCatalogs.close(catalog);
    }

    @Test
    void thoroughCompactionLeavesOneFilePerPartitionNoDeletesAndTheLatestRows() {
        upsert("a", 3, "first");
        upsert("b", 3, "first");
        upsert("c", 2, "first");
        upsert("a", 3, "rescan"); // a re-scan replaces slide a's rows
        Map<String, String> before = rows();

        IcebergCompaction.Outcome outcome =
                IcebergCompaction.compact(table, IcebergCompaction.Policy.thorough(1 << 27));

        assertThat(rows()).isEqualTo(before).hasSize(8).containsEntry("a/0", "rescan");
        assertThat(deleteFiles()).isEmpty();
        assertThat(dataFiles()).hasSize(1);
        assertThat(outcome.deletesDropped()).isEqualTo(4);
    }

    @Test
    void aCompactFileIsRewrittenOnlyWhenADeleteHidesOneOfItsRows() {
        // Every file counts as compact (1 byte is "small"): only deletes can make it rewritten.
        IcebergCompaction.Policy policy = new IcebergCompaction.Policy(1, 1 << 27, 2);
        upsert("b", 3, "first");
        upsert(List.of("a", "c"), 3, "first");
        Set<String> filesBefore = dataFiles();

        // The second commit's delete spans slide ids a..c: by sequence number and bounds it may
        // apply to b's older file, but it hides none of its rows: the files stay, the delete goes.
        IcebergCompaction.Outcome spent = IcebergCompaction.compact(table, policy);
        assertThat(spent.filesAdded()).isZero();
        assertThat(dataFiles()).isEqualTo(filesBefore);
        assertThat(deleteFiles()).isEmpty();

        upsert("a", 3, "rescan");
        Set<String> beforeRescanCompaction = dataFiles();
        IcebergCompaction.Outcome outcome = IcebergCompaction.compact(table, policy);

        assertThat(outcome.deletesDropped()).isEqualTo(1);
        assertThat(deleteFiles()).isEmpty();
        Set<String> after = dataFiles();
        assertThat(after).doesNotContain(fileOf("a", beforeRescanCompaction, "first"));
        assertThat(after).contains(fileOf("b", beforeRescanCompaction, "first"));
        assertThat(rows())
                .hasSize(9)
                .containsEntry("c/1", "first")
                .containsEntry("a/0", "rescan")
                .containsEntry("a/2", "rescan")
                .containsEntry("b/1", "first");
    }

    @Test
    void fewSmallFilesWaitForMore() {
        IcebergCompaction.Policy policy = new IcebergCompaction.Policy(1 << 27, 1 << 27, 4);
        for (String slide : List.of("a", "b", "c")) {
            table.newAppend().appendFile(dataFile(slide, 2, "first")).commit();
        }
        Set<String> before = dataFiles();

        IcebergCompaction.Outcome outcome = IcebergCompaction.compact(table, policy);

        assertThat(outcome.partitions()).isZero();
        assertThat(dataFiles()).isEqualTo(before);
    }

    @Test
    void aFileOfAnUnpartitionedTableHasNoEmptyPathSegment() {
        Table flat =
                catalog.createTable(
                        TableIdentifier.of("t", "flat"),
                        SCHEMA,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        // In memory: its locations are the strings as given, as S3's keys are (Hadoop's local
        // file system would normalise the path and hide the flaw).
        OutputFileFactory factory =
                OutputFileFactory.builderFor(flat, 1, 1)
                        .format(FileFormat.PARQUET)
                        .ioSupplier(org.apache.iceberg.inmemory.InMemoryFileIO::new)
                        .build();
        String location =
                IcebergPartitionRewrite.outputFile(factory, flat.spec(), null)
                        .encryptingOutputFile()
                        .location();
        // "data//name" is signed by S3 clients differently from how servers read it: 403.
        assertThat(location.substring(location.indexOf("/data/"))).doesNotContain("//");
    }

    /** One commit as the upsert sink makes it: the slide's rows and a delete of their keys. */
    private void upsert(String slide, int rows, String value) {
        upsert(List.of(slide), rows, value);
    }

    private void upsert(List<String> slides, int rows, String value) {
        DataFile data = dataFile(slides, rows, value);
        DeleteFile delete = keysDelete(slides, rows);
        table.newRowDelta().addRows(data).addDeletes(delete).commit();
    }

    private DataFile dataFile(String slide, int rows, String value) {
        return dataFile(List.of(slide), rows, value);
    }

    private DataFile dataFile(List<String> slides, int rows, String value) {
        GenericAppenderFactory factory = new GenericAppenderFactory(SCHEMA, SPEC);
        StructLike partition = partitionOf(slides.get(0));
        DataWriter<Record> writer =
                factory.newDataWriter(
                        files().newOutputFile(SPEC, partition), FileFormat.PARQUET, partition);
        try (writer) {
            for (String slide : slides) {
                for (int n = 0; n < rows; n++) {
                    writer.write(row(slide, n, value));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return writer.toDataFile();
    }

    private DeleteFile keysDelete(List<String> slides, int rows) {
        Schema keys = SCHEMA.select("slide_id", "n");
        GenericAppenderFactory factory =
                new GenericAppenderFactory(SCHEMA, SPEC, new int[] {1, 2}, keys, null);
        StructLike partition = partitionOf(slides.get(0));
        EqualityDeleteWriter<Record> writer =
                factory.newEqDeleteWriter(
                        files().newOutputFile(SPEC, partition), FileFormat.PARQUET, partition);
        try (writer) {
            for (String slide : slides) {
                for (int n = 0; n < rows; n++) {
                    GenericRecord key = GenericRecord.create(keys);
                    key.setField("slide_id", slide);
                    key.setField("n", n);
                    writer.write(key);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return writer.toDeleteFile();
    }

    private OutputFileFactory files() {
        return OutputFileFactory.builderFor(table, 1, ++fileCount)
                .format(FileFormat.PARQUET)
                .build();
    }

    private static StructLike partitionOf(String slide) {
        org.apache.iceberg.PartitionKey key = new org.apache.iceberg.PartitionKey(SPEC, SCHEMA);
        key.partition(row(slide, 0, ""));
        return key;
    }

    private static Record row(String slide, int n, String value) {
        GenericRecord r = GenericRecord.create(SCHEMA);
        r.setField("slide_id", slide);
        r.setField("n", n);
        r.setField("value", value);
        return r;
    }

    /** Live rows as "slide/n" to value; fails on a key seen twice. */
    private Map<String, String> rows() {
        table.refresh();
        Map<String, String> rows = new HashMap<>();
        try (CloseableIterable<Record> all = IcebergGenerics.read(table).build()) {
            for (Record r : all) {
                String key = r.getField("slide_id") + "/" + r.getField("n");
                assertThat(rows.put(key, (String) r.getField("value"))).as(key).isNull();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    private Set<String> dataFiles() {
        table.refresh();
        Set<String> files = new HashSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            tasks.forEach(t -> files.add(t.file().location()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private List<String> deleteFiles() {
        table.refresh();
        List<String> deletes = new ArrayList<>();
        IcebergPartitionRewrite.forEachDeleteFile(
                table, table.currentSnapshot(), d -> deletes.add(d.location()));
        return deletes;
    }

    /** The data file among {@code files} that holds {@code slide}'s rows of {@code value}. */
    private String fileOf(String slide, Set<String> files, String value) {
        for (String file : files) {
            try (CloseableIterable<Record> rows =
                    org.apache.iceberg.parquet.Parquet.read(table.io().newInputFile(file))
                            .project(SCHEMA)
                            .createReaderFunc(
                                    s ->
                                            org.apache.iceberg.data.parquet.GenericParquetReaders
                                                    .buildReader(SCHEMA, s))
                            .build()) {
                for (Record r : rows) {
                    if (slide.equals(r.getField("slide_id")) && value.equals(r.getField("value"))) {
                        return file;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError("no file holds " + slide + " " + value + " in " + files);
    }
}
