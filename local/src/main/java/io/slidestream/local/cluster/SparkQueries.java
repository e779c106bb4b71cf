package io.slidestream.local.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.sink.IcebergConfig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs named SQL queries (by default the documented dashboard queries, {@code
 * docs/dashboard-queries.sql}) in Apache Spark against SlideStream's Iceberg catalog, as an
 * analyst's dashboard would: the testbed's {@code SparkSql} in its own JVM, the catalog registered
 * under its own name. Each query's rows come back with the time Spark took for it.
 */
public final class SparkQueries {

    /** One query's rows and how long Spark took to plan and run it. */
    public record Answer(List<JsonNode> rows, long millis) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Java modules Spark 3.5 reaches into on Java 17. */
    private static final List<String> OPENS =
            List.of(
                    "java.base/java.lang",
                    "java.base/java.lang.invoke",
                    "java.base/java.lang.reflect",
                    "java.base/java.io",
                    "java.base/java.net",
                    "java.base/java.nio",
                    "java.base/java.util",
                    "java.base/java.util.concurrent",
                    "java.base/java.util.concurrent.atomic",
                    "java.base/jdk.internal.ref",
                    "java.base/sun.nio.ch",
                    "java.base/sun.nio.cs",
                    "java.base/sun.security.action",
                    "java.base/sun.util.calendar");

    private SparkQueries() {}

    /** The dashboard queries against {@code iceberg}; Spark's output is kept in {@code log}. */
    public static Map<String, Answer> dashboards(IcebergConfig iceberg, Path log)
            throws IOException, InterruptedException {
        Testbed testbed = Testbed.locate();
        return run(testbed.home().resolve("docs/dashboard-queries.sql"), iceberg, log);
    }

    /** The named queries of {@code queries} against {@code iceberg}. */
    public static Map<String, Answer> run(Path queries, IcebergConfig iceberg, Path log)
            throws IOException, InterruptedException {
        return run(queries, iceberg, Map.of(), log);
    }

    /**
     * The named queries of {@code queries} against {@code iceberg} (a JDBC or REST catalog), Spark
     * started with {@code environment} added to its own (an object store's client settings).
     */
    public static Map<String, Answer> run(
            Path queries, IcebergConfig iceberg, Map<String, String> environment, Path log)
            throws IOException, InterruptedException {
        Testbed testbed = Testbed.locate();
        List<String> classpath = new ArrayList<>(testbed.classpath("spark"));
        try (var jars = Files.list(testbed.home().resolve("testbed/spark/target"))) {
            jars.filter(j -> j.getFileName().toString().endsWith(".jar"))
                    .forEach(j -> classpath.add(j.toString()));
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx2g");
        OPENS.forEach(m -> command.add("--add-opens=" + m + "=ALL-UNNAMED"));
        command.add("-cp");
        command.add(String.join(File.pathSeparator, classpath));
        command.add("io.slidestream.testbed.spark.SparkSql");
        command.add(queries.toString());
        command.add(iceberg.catalogName());
        command.add("type=" + iceberg.catalogType().name().toLowerCase(Locale.ROOT));
        iceberg.catalogProperties().forEach((k, v) -> command.add(k + "=" + v));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process spark = builder.start();
        if (!spark.waitFor(5, TimeUnit.MINUTES)) {
            spark.destroyForcibly().waitFor();
            throw new IOException("Spark took over 5 minutes; its output is in " + log);
        }
        String output = Files.readString(log);
        if (spark.exitValue() != 0) {
            throw new IOException(
                    "Spark failed (exit " + spark.exitValue() + "); its output:\n" + output);
        }
        Map<String, Answer> answers = new LinkedHashMap<>();
        for (String line : output.lines().toList()) {
            if (line.startsWith("SPARKSQL ")) {
                JsonNode q = JSON.readTree(line.substring("SPARKSQL ".length()));
                List<JsonNode> rows = new ArrayList<>();
                q.path("rows").forEach(rows::add);
                answers.put(q.path("query").asText(), new Answer(rows, q.path("millis").asLong()));
            }
        }
        return answers;
    }
}
