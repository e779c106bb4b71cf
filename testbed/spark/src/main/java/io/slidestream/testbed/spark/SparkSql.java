package io.slidestream.testbed.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * Runs named SQL queries in Apache Spark (local mode) against an Iceberg catalog and prints each
 * query's rows as one line {@code SPARKSQL {"query": NAME, "millis": M, "rows": [{...}, ...]}} on
 * standard out, M being the milliseconds Spark took to plan and run it.
 *
 * <p>Usage: {@code SparkSql QUERIES.sql CATALOG key=value...}: the file holds blocks that start
 * with a line {@code -- name: NAME}; {@code ${catalog}} in them is replaced by {@code CATALOG}, the
 * name the catalog is registered under in Spark; the {@code key=value} pairs are the catalog's
 * Iceberg properties ({@code type=jdbc}, {@code uri=...}, {@code warehouse=...}). For a JDBC
 * catalog the name matters: Iceberg keeps it with every table, so it must be the name the writer
 * used.
 */
public final class SparkSql {
    private SparkSql() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SparkSql QUERIES.sql CATALOG key=value...");
            System.exit(2);
        }
        Map<String, String> queries = parse(Files.readString(Path.of(args[0])));
        String catalog = args[1];
        SparkSession.Builder builder =
                SparkSession.builder()
                        .master("local[2]")
                        .appName("slidestream-dashboard-queries")
                        .config("spark.ui.enabled", "false")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config(
                                "spark.sql.extensions",
                                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
                        .config("spark.sql.catalog." + catalog, "org.apache.iceberg.spark.SparkCatalog");
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            builder.config(
                    "spark.sql.catalog." + catalog + "." + args[i].substring(0, eq),
                    args[i].substring(eq + 1));
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            for (var q : queries.entrySet()) {
                String sql = q.getValue().replace("${catalog}", catalog);
                long start = System.nanoTime();
                List<String> rows = spark.sql(sql).toJSON().collectAsList();
                long millis = (System.nanoTime() - start) / 1_000_000;
                System.out.println(
                        "SPARKSQL {\"query\": \""
                                + q.getKey()
                                + "\", \"millis\": "
                                + millis
                                + ", \"rows\": ["
                                + String.join(", ", rows)
                                + "]}");
            }
        } finally {
            spark.stop();
        }
    }

    /** The named blocks of a queries file, in order. */
    static Map<String, String> parse(String text) {
        Map<String, String> queries = new LinkedHashMap<>();
        String name = null;
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("-- name:")) {
                if (name != null) {
                    queries.put(name, String.join("\n", lines).trim().replaceAll(";\\s*$", ""));
                }
                name = line.substring("-- name:".length()).trim();
                lines.clear();
            } else if (name != null && !line.startsWith("--")) {
                lines.add(line);
            }
        }
        if (name != null) {
            queries.put(name, String.join("\n", lines).trim().replaceAll(";\\s*$", ""));
        }
        return queries;
    }
}
