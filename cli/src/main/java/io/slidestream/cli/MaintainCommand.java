package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergMaintenance;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code slidestream maintain}: the tables' maintenance at once ({@link IcebergMaintenance}). */
@Command(
        name = "maintain",
        mixinStandardHelpOptions = true,
        description =
                "Maintain the Iceberg tables now (after a backfill, before an export): compact"
                        + " each partition with several files or any delete file into one data file"
                        + " (deletes applied), expire old snapshots and their files, remove"
                        + " unreferenced files, bound the metadata history (iceberg.maintenance.*)."
                        + " Prints each table before and after.")
final class MaintainCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin StoreOptions stores;

    @Option(
            names = "--table",
            paramLabel = "T",
            description = "Only this table (tiles, slides or slide_errors as configured).")
    String table;

    @Override
    public Integer call() {
        Configuration conf = stores.require();
        IcebergConfig iceberg = IcebergConfig.from(conf);
        List<String> tables =
                List.of(iceberg.tilesTable(), iceberg.slidesTable(), iceberg.errorsTable());
        if (table != null) {
            if (!tables.contains(table)) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "--table " + table + ": give one of " + String.join(", ", tables));
            }
            tables = List.of(table);
        }
        IcebergMaintenance.Settings settings = iceberg.maintenance().thorough();
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                Locale.ROOT,
                "%-14s %-7s %10s %10s %12s %10s %10s %14s%n",
                "TABLE",
                "",
                "ROWS",
                "DATA_FILES",
                "DELETE_FILES",
                "SNAPSHOTS",
                "METADATA",
                "BYTES");
        for (String name : tables) {
            IcebergMaintenance.Report r =
                    IcebergCatalogs.withTable(
                            iceberg, name, t -> IcebergMaintenance.maintain(t, settings));
            print(out, name, "before", r.before());
            print(out, "", "after", r.after());
            if (r.after().rows() != r.before().rows()) {
                out.printf(
                        "  (rows differ: the job committed %d rows meanwhile)%n",
                        r.after().rows() - r.before().rows());
            }
            out.printf(
                    "  %d partitions compacted (%d data files into %d, %d delete files spent),"
                            + " %d unreferenced files removed%n",
                    r.compaction().partitions(),
                    r.compaction().filesRemoved(),
                    r.compaction().filesAdded(),
                    r.compaction().deletesDropped(),
                    r.orphansRemoved());
        }
        out.flush();
        return 0;
    }

    private static void print(
            PrintWriter out, String name, String when, IcebergMaintenance.State s) {
        out.printf(
                Locale.ROOT,
                "%-14s %-7s %10d %10d %12d %10d %10d %14d%n",
                name,
                when,
                s.rows(),
                s.dataFiles(),
                s.deleteFiles(),
                s.snapshots(),
                s.metadataFiles(),
                s.bytes());
    }
}
