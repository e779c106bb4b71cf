package io.slidestream.serve;

import io.slidestream.config.ConfigKeys;
import io.slidestream.config.ConfigLoader;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.flink.configuration.Configuration;

/**
 * The retrieval service as a process of its own, beside the Flink job: {@code java -jar
 * slidestream-serve.jar [--config FILE] [-Dkey=value ...] [--host H] [--port P] [--insecure]}, with
 * the job's configuration (the same Milvus, Iceberg catalog, model and allowed slide roots). Runs
 * until SIGTERM. A bad argument or key ends it with one line {@code CODE: message} and exit code 2.
 * {@code bin/slidestream serve} runs the same server from the command line.
 */
public final class ServeMain {

    private static final String LOG_CONFIGURATION = "log4j2.configurationFile";

    private ServeMain() {}

    public static void main(String[] args) throws Exception {
        // Before the first logger: the service's own configuration, not one a library jar carries.
        if (System.getProperty(LOG_CONFIGURATION) == null) {
            System.setProperty(LOG_CONFIGURATION, "log4j2-serve.properties");
        }
        try {
            run(args);
        } catch (SlideStreamException e) {
            System.err.println(e.code() + ": " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) throws Exception {
        Path file = null;
        List<String> overrides = new ArrayList<>();
        String host = "0.0.0.0";
        int port = 8080;
        boolean insecure = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--insecure")) {
                insecure = true;
            } else if (arg.startsWith("-D")) {
                overrides.add(arg.substring(2));
            } else if (i + 1 < args.length
                    && (arg.equals("--config") || arg.equals("--host") || arg.equals("--port"))) {
                String value = args[++i];
                switch (arg) {
                    case "--config" -> file = Path.of(value);
                    case "--host" -> host = value;
                    default -> port = port(value);
                }
            } else {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown argument '"
                                + arg
                                + "': use --config FILE, -Dkey=value, --host H, --port P and"
                                + " --insecure");
            }
        }
        Configuration conf = ConfigLoader.load(file, ConfigLoader.parseOverrides(overrides));
        ConfigKeys.requireKnown(conf);
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    stopped.countDown();
                                    try {
                                        closed.await();
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                },
                                "serve-stop"));
        try (SlideStreamServer server =
                SlideStreamServer.start(ServeConfig.from(conf), host, port, insecure)) {
            System.out.printf(
                    "SlideStream dashboard and API on http://%s:%d/ (model %s)%n",
                    host, server.port(), server.modelId());
            stopped.await();
        } finally {
            closed.countDown();
        }
    }

    private static int port(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "--port must be a number, got '" + value + "'");
        }
    }
}
