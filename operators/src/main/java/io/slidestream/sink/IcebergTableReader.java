package io.slidestream.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Reads committed rows of SlideStream's Iceberg tables back with Iceberg's generic reader: row
 * counts per slide for the demo summary and the integration tests. Sees the table's current
 * snapshot only, i.e. what completed checkpoints committed.
 */
public final class IcebergTableReader {

    private static final String SLIDE_ID = "slide_id";

    private IcebergTableReader() {}

    /** Rows per slide id in {@code table} (reads only the slide_id column). */
    public static Map<String, Long> countPerSlide(Table table) {
        table.refresh();
        Map<String, Long> counts = new TreeMap<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table).select(SLIDE_ID).build()) {
            for (Record row : rows) {
                counts.merge((String) row.getField(SLIDE_ID), 1L, Long::sum);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + table.name() + " failed", e);
        }
        return counts;
    }

    /** Rows of {@code slideId} in {@code table}; files of other slides are pruned by stats. */
    public static long count(Table table, String slideId) {
        table.refresh();
        long count = 0;
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table)
                        .select(SLIDE_ID)
                        .where(Expressions.equal(SLIDE_ID, slideId))
                        .build()) {
            for (Record row : rows) {
                // The filter prunes files and row groups; rows inside a kept group still need it.
                if (slideId.equals(row.getField(SLIDE_ID))) {
                    count++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + table.name() + " failed", e);
        }
        return count;
    }

    /** Every current row of {@code table}, reading only {@code columns} (all when none given). */
    public static List<Record> rows(Table table, String... columns) {
        table.refresh();
        List<Record> out = new ArrayList<>();
        var scan = IcebergGenerics.read(table);
        if (columns.length > 0) {
            scan = scan.select(columns);
        }
        try (CloseableIterable<Record> rows = scan.build()) {
            for (Record row : rows) {
                out.add(row.copy());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + table.name() + " failed", e);
        }
        return out;
    }

    /**
     * The current rows of {@code table} whose string column {@code column} equals {@code value},
     * reading only {@code columns}; files and row groups without the value are pruned by stats.
     */
    public static List<Record> rowsWhere(
            Table table, String column, String value, String... columns) {
        table.refresh();
        List<Record> out = new ArrayList<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table)
                        .select(columns)
                        .where(Expressions.equal(column, value))
                        .build()) {
            for (Record row : rows) {
                // The filter prunes files and row groups; rows inside a kept group still need it.
                if (value.equals(row.getField(column))) {
                    out.add(row.copy());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + table.name() + " failed", e);
        }
        return out;
    }

    /** Every current row of table {@code name} of the configured catalog. */
    public static List<Record> rows(IcebergConfig config, String name, String... columns) {
        return IcebergCatalogs.withTable(config, name, table -> rows(table, columns));
    }

    /** Rows per slide id in table {@code name} of the configured catalog. */
    public static Map<String, Long> countPerSlide(IcebergConfig config, String name) {
        return IcebergCatalogs.withTable(config, name, IcebergTableReader::countPerSlide);
    }
}
