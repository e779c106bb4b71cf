package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.bench.TableSoak;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergTableReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's own table maintenance ({@code IcebergUpkeep}) while its sinks commit on checkpoints 300
 * ms apart: one slide per checkpoint, every tenth a re-scan of an earlier slide, every fiftieth a
 * failure. The tables end with every slide's rows exactly once (re-scans replaced), the equality
 * deletes spent, the snapshots and metadata.json files bounded, and the Flink sink's own last
 * commit still in the history (so a restart does not commit a checkpoint twice).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TableUpkeepITCase {

    private static final int COMMITS = 60;
    private static final int TILES = 8;
    private static final int EVERY = 10;

    @TempDir Path dir;

    @Test
    void maintenanceInTheJobKeepsTheTablesSmallAndTheRowsExact() throws Exception {
        Configuration conf = new Configuration();
        conf.setString("iceberg.maintenance.every-checkpoints", Integer.toString(EVERY));
        conf.setString("iceberg.maintenance.min-small-files", "2");
        conf.setString("iceberg.maintenance.snapshot-max-age", "0s");
        conf.setString("iceberg.maintenance.snapshots-min", "3");
        conf.setString("iceberg.maintenance.metadata-versions", "5");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TableSoak soak =
                new TableSoak(
                        dir,
                        COMMITS,
                        TILES,
                        16,
                        Duration.ofMillis(300),
                        conf,
                        new PrintStream(log, true, StandardCharsets.UTF_8));

        TableSoak.Figures figures = soak.once(true, false);

        IcebergConfig iceberg = soak.lastCatalog();
        Map<String, Long> expectedTiles = new HashMap<>();
        Map<String, Long> expectedSlides = new HashMap<>();
        Map<String, Long> expectedErrors = new HashMap<>();
        for (long i = 0; i < COMMITS; i++) {
            String slide = TableSoak.slideId(i);
            expectedTiles.put(slide, (long) TILES);
            (i % 50 == 49 ? expectedErrors : expectedSlides).put(slide, 1L);
        }
        assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable()))
                .isEqualTo(expectedTiles);
        assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable()))
                .isEqualTo(expectedSlides);
        assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.errorsTable()))
                .isEqualTo(expectedErrors);

        System.out.println("TableUpkeepITCase: " + figures);
        // How many maintenance turns fall while the sinks still write depends on the machine's
        // speed (a turn that is still running skips the next); the quiet checkpoints at the end
        // make at least one turn certain, and it must have compacted the re-scans' deletes.
        assertThat(figures.compactions()).as("compactions of tiles").isPositive();
        // Without maintenance: one data and one delete file per commit, and a snapshot each. With
        // it, once the writes have stopped for two maintenance intervals: one data file per
        // bucket, the equality deletes spent, the snapshots the expiry keeps (3) and the sink's
        // empty commits since (one per 10 checkpoints without data).
        assertThat(figures.dataFiles()).isLessThanOrEqualTo(IcebergTables.TILE_BUCKETS);
        assertThat(figures.deleteFiles()).isZero();
        assertThat(figures.snapshots()).isLessThanOrEqualTo(3 + 2);
        assertThat(figures.metadataFiles()).isLessThanOrEqualTo(5 + 1);
        boolean sinkCommitKept =
                IcebergCatalogs.withTable(
                        iceberg,
                        iceberg.tilesTable(),
                        TableUpkeepITCase::historyHoldsTheSinksLastCommit);
        assertThat(sinkCommitKept).isTrue();
    }

    private static boolean historyHoldsTheSinksLastCommit(Table table) {
        for (Snapshot s = table.currentSnapshot();
                s != null;
                s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            if (s.summary().containsKey("flink.max-committed-checkpoint-id")) {
                return true;
            }
        }
        return false;
    }
}
