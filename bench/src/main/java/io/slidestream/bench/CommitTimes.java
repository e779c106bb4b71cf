package io.slidestream.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.metrics.CommitReport;
import org.apache.iceberg.metrics.MetricsReport;
import org.apache.iceberg.metrics.MetricsReporter;

/**
 * Collects the commit reports Iceberg makes in this JVM (register it with the catalog property
 * {@value CatalogProperties#METRICS_REPORTER_IMPL}): each commit's table, operation and duration,
 * as measured by Iceberg around the commit itself (manifests written, metadata swapped, retries).
 */
public final class CommitTimes implements MetricsReporter {

    private static final ConcurrentLinkedQueue<CommitReport> REPORTS =
            new ConcurrentLinkedQueue<>();

    @Override
    public void report(MetricsReport report) {
        if (report instanceof CommitReport commit) {
            REPORTS.add(commit);
        }
    }

    /** Forgets the commits seen so far. */
    public static void clear() {
        REPORTS.clear();
    }

    /**
     * Milliseconds of the commits to table {@code tableName} (its full name ends with it) whose
     * operation is {@code operation} ("replace" for a compaction) or, when {@code operation} starts
     * with "!", is not the rest.
     */
    public static List<Long> millis(String tableName, String operation) {
        List<Long> out = new ArrayList<>();
        for (CommitReport r : REPORTS) {
            boolean match =
                    operation.startsWith("!")
                            ? !r.operation().equals(operation.substring(1))
                            : r.operation().equals(operation);
            if (r.tableName().endsWith("." + tableName)
                    && match
                    && r.commitMetrics().totalDuration() != null) {
                out.add(r.commitMetrics().totalDuration().totalDuration().toMillis());
            }
        }
        return out;
    }
}
