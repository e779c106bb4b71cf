package io.slidestream.cli;

import io.slidestream.bench.SearchBenchmark;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.local.MilvusLite;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench search}: runs {@link SearchBenchmark} for each size of {@code --vectors}
 * (100k and 1M by default) on Milvus Lite (started in {@code --work-dir}) or on the Milvus at
 * {@code -D milvus.uri=...} (the milvus.* keys, e.g. milvus.index-type, apply as in the job), and
 * prints recall@k against exact search and search latency.
 */
@Command(
        name = "search",
        mixinStandardHelpOptions = true,
        description =
                "Recall@k of the Milvus index against exact search, and search latency (plain and"
                        + " filtered), on clustered synthetic vectors written through the sink.")
final class BenchSearchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
            names = "--vectors",
            split = ",",
            paramLabel = "N",
            defaultValue = "100000,1000000",
            description = "Collection sizes to measure (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(
            names = "--model",
            paramLabel = "M.onnx",
            description = "Take the dimension D from this tile model's output.")
    Path model;

    @Option(
            names = "--dim",
            paramLabel = "D",
            description =
                    "Vector dimension when no --model is given (default: ${DEFAULT-VALUE}, GPFM's).")
    int dimension = 1024;

    @Option(names = "--clusters", defaultValue = "1000", description = "Clusters of the vectors.")
    int clusters;

    @Option(names = "--queries", defaultValue = "200", description = "Queries per size.")
    int queries;

    @Option(names = "--k", defaultValue = "10", description = "Hits per query (recall@k).")
    int k;

    @Mixin JobConfigOptions config;

    @Option(
            names = "--work-dir",
            defaultValue = "bench-search",
            description = "Where Milvus Lite keeps its data (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        int d = dimension;
        if (model != null) {
            try (SingleTileEmbedder embedder = SingleTileEmbedder.open(model)) {
                d = embedder.dimension();
            }
        }
        PrintStream out = BenchEmbedCommand.printStreamOn(spec.commandLine().getOut());
        List<SearchBenchmark.Figures> figures = new ArrayList<>();
        MilvusLite lite = null;
        try {
            Configuration conf = config.load();
            String uri = conf.getOptional(MilvusOptions.URI).orElse(null);
            if (uri == null) {
                Files.createDirectories(workDir);
                lite = MilvusLite.start(workDir.resolve("milvus.db").toAbsolutePath());
                uri = lite.uri();
            }
            for (int n : sizes) {
                MilvusConfig config =
                        new ConfigBuilder<>(MilvusConfig::from, conf)
                                .set(MilvusOptions.URI, uri)
                                .set(MilvusOptions.TILES_COLLECTION, "bench_search_" + n + "_d" + d)
                                .build();
                figures.add(SearchBenchmark.run(config, n, d, clusters, queries, k, 42, 2, out));
            }
        } finally {
            if (lite != null) {
                lite.close();
            }
        }
        if (summaryJson != null) {
            BenchEmbedCommand.writeSummary(summaryJson, figures);
            out.println("Figures written to " + summaryJson);
        }
        return 0;
    }
}
