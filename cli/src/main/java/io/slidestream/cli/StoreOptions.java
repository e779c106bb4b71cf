package io.slidestream.cli;

import io.slidestream.config.ConfigLoader;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.local.DemoRun;
import io.slidestream.local.MilvusLite;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.MilvusOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which stores a command reads: the ones a demo left in a folder ({@code --demo-data DIR}, whose
 * {@code serve.yaml} holds the demo's keys) or the job's configuration ({@code --config FILE},
 * {@code -D key=value}), the latter overriding the former. A picocli mixin for the commands that
 * work on stored results (serve, bags, heads).
 */
final class StoreOptions {
    @Option(
            names = "--demo-data",
            paramLabel = "DIR",
            description =
                    "Use the stores a demo left in DIR (its default is demo-data): reads"
                            + " DIR/"
                            + DemoRun.SERVE_CONFIGURATION
                            + "; --config and -D still override it.")
    Path demoData;

    @Mixin JobConfigOptions config;

    /** The keys of the demo's folder, then the file, then the overrides. */
    Configuration load() {
        if (demoData == null) {
            return config.load();
        }
        Path file = demoData.resolve(DemoRun.SERVE_CONFIGURATION);
        if (!Files.isRegularFile(file)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    demoData
                            + " holds no "
                            + DemoRun.SERVE_CONFIGURATION
                            + ": it is not the work folder of a finished demo run (run `make"
                            + " demo` first, or name its --work-dir)");
        }
        return config.load(ConfigLoader.load(file, Map.of()).toMap());
    }

    /**
     * {@link #load()}, refusing to run on nothing: a command over stored results must be told where
     * they are.
     */
    Configuration require() {
        if (demoData == null && !config.given()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "say which stores to read: --demo-data DIR (a demo's work folder, e.g."
                            + " demo-data) or --config FILE (the job's configuration)");
        }
        return load();
    }

    /**
     * For a demo's stores, starts Milvus Lite on the demo's data file and points {@code conf} at
     * it; the caller closes it. Null for the stores of a configuration (their Milvus is a server).
     */
    MilvusLite startDemoMilvus(Configuration conf) {
        if (demoData == null) {
            return null;
        }
        MilvusLite milvus = MilvusLite.start(demoData.resolve("milvus.db").toAbsolutePath());
        conf.set(MilvusOptions.URI, milvus.uri());
        return milvus;
    }
}
