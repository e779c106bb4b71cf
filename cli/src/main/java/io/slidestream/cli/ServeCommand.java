package io.slidestream.cli;

import io.slidestream.config.ConfigLoader;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.local.DemoRun;
import io.slidestream.local.MilvusLite;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.serve.ServeConfig;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.sink.MilvusOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream serve}: the retrieval API and the dashboard ({@link SlideStreamServer}) over
 * the stores and model of the job's configuration, until Ctrl-C or SIGTERM.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description =
                "Serve the search API and the dashboard over the job's Milvus, Iceberg tables,"
                        + " model and slides.")
final class ServeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin JobConfigOptions config;

    @Option(
            names = "--demo-data",
            paramLabel = "DIR",
            description =
                    "Serve the stores a demo left in DIR (its default is demo-data): starts Milvus"
                            + " Lite on DIR's data and reads the demo's configuration"
                            + " (DIR/"
                            + DemoRun.SERVE_CONFIGURATION
                            + "); --config and -D still override it.")
    Path demoData;

    @Option(
            names = "--port",
            defaultValue = "8080",
            description = "Port to listen on (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(
            names = "--host",
            defaultValue = "127.0.0.1",
            description =
                    "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every"
                            + " interface).")
    String host;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        Map<String, String> keys = new LinkedHashMap<>();
        // Ctrl-C or SIGTERM: the hook lets the server and Milvus Lite close before the JVM exits.
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    stopped.countDown();
                                    try {
                                        closed.await(30, TimeUnit.SECONDS);
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                },
                                "serve-stop"));
        MilvusLite milvus = null;
        if (demoData != null) {
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
            keys.putAll(ConfigLoader.load(file, Map.of()).toMap());
            milvus = MilvusLite.start(demoData.resolve("milvus.db").toAbsolutePath());
            keys.put(MilvusOptions.URI.key(), milvus.uri());
        }
        try {
            serve(ServeConfig.from(config.load(keys)));
        } finally {
            if (milvus != null) {
                milvus.close();
            }
            closed.countDown();
        }
        return 0;
    }

    private void serve(ServeConfig job) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        try (SlideStreamServer server = SlideStreamServer.start(job, host, port)) {
            out.printf(
                    "SlideStream dashboard and API on http://%s:%d/ (model %s); Ctrl-C stops it%n",
                    host, server.port(), server.modelId());
            out.flush();
            stopped.await();
        }
    }
}
