package io.slidestream.cli;

import io.slidestream.local.MilvusLite;
import io.slidestream.serve.ServeConfig;
import io.slidestream.serve.SlideStreamServer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
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

    @Mixin StoreOptions stores;

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

    @Option(
            names = "--insecure",
            description =
                    "Listen on a non-loopback --host without authentication (serve.auth=none):"
                            + " only behind a proxy that authenticates every request.")
    boolean insecure;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
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
        Configuration conf = stores.load();
        // The demo's Milvus is Milvus Lite on its data file: started for as long as we serve.
        MilvusLite milvus = stores.startDemoMilvus(conf);
        try {
            serve(ServeConfig.from(conf));
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
        try (SlideStreamServer server = SlideStreamServer.start(job, host, port, insecure)) {
            out.printf(
                    "SlideStream dashboard and API on http://%s:%d/ (model %s); Ctrl-C stops it%n",
                    host, server.port(), server.modelId());
            out.flush();
            stopped.await();
        }
    }
}
