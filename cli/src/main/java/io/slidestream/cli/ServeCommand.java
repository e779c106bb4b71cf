package io.slidestream.cli;

import io.slidestream.config.ConfigKeys;
import io.slidestream.config.ConfigLoader;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.serve.SlideStreamServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
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

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "The job's YAML configuration (the same file as for run).")
    Path config;

    @Option(
            names = "-D",
            paramLabel = "key=value",
            description = "Sets or overrides one configuration key (repeatable).")
    List<String> overrides = new ArrayList<>();

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

    @Override
    public Integer call() throws Exception {
        Configuration conf = ConfigLoader.load(config, ConfigLoader.parseOverrides(overrides));
        ConfigKeys.requireKnown(conf);
        SlideStreamConfig job = SlideStreamConfig.from(conf);
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stopped = new CountDownLatch(1);
        try (SlideStreamServer server = SlideStreamServer.start(job, host, port)) {
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "serve-stop"));
            out.printf(
                    "SlideStream dashboard and API on http://%s:%d/ (model %s); Ctrl-C stops it%n",
                    host, server.port(), server.modelId());
            out.flush();
            stopped.await();
        }
        return 0;
    }
}
