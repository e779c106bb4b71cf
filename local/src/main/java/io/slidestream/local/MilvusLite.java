package io.slidestream.local;

import io.milvus.v2.client.MilvusClientV2;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a Milvus Lite 2.5.1 server (the npm package {@value #PACKAGE}, pinned by the project's
 * package-lock.json) as a child process on a loopback port, for the embedded run and the
 * integration tests. The data lives in one file that survives a stop, so a server started again on
 * the same file sees the same collections.
 *
 * <p>{@link #start} returns once the port answers and a Milvus client has connected. {@link #close}
 * sends SIGTERM and waits, then kills the process if it does not exit; a JVM shutdown hook does the
 * same if the owner never closes it. The server's output goes to {@code <data file>.log}, whose
 * tail is quoted when the server fails to start.
 */
public final class MilvusLite implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MilvusLite.class);

    /** The npm package that carries the server binary and its libraries. */
    public static final String PACKAGE = "@lyyyuna/milvus-lite-linux-x64";

    /** System property naming the project root that holds node_modules. */
    public static final String HOME_PROPERTY = "slidestream.home";

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Path dataFile;
    private final int port;
    private final Process process;
    private final Thread shutdownHook;
    private final Duration startupTime;

    private MilvusLite(
            Path dataFile, int port, Process process, Thread hook, Duration startupTime) {
        this.dataFile = dataFile;
        this.port = port;
        this.process = process;
        this.shutdownHook = hook;
        this.startupTime = startupTime;
    }

    /** Starts a server on {@code dataFile} on a free loopback port. */
    public static MilvusLite start(Path dataFile) {
        return start(dataFile, freePort());
    }

    /**
     * Starts a server on {@code dataFile} on {@code port} (use the port of an earlier server to
     * restart it where its clients expect it).
     *
     * @throws SlideStreamException {@link ErrorCode#STORE_UNAVAILABLE} when the package is not
     *     installed or the server does not come up
     */
    public static MilvusLite start(Path dataFile, int port) {
        Path pkg = findPackage();
        Path binary = pkg.resolve("lib").resolve("milvus");
        Path data = dataFile.toAbsolutePath();
        Path log = data.resolveSibling(data.getFileName() + ".log");
        long begin = System.nanoTime();
        Process process;
        try {
            Files.createDirectories(data.getParent());
            ProcessBuilder builder =
                    new ProcessBuilder(
                            List.of(
                                    binary.toString(),
                                    data.toString(),
                                    "127.0.0.1:" + port,
                                    "ERROR"));
            builder.environment().put("LD_LIBRARY_PATH", pkg.resolve("lib").toString());
            builder.redirectErrorStream(true);
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = builder.start();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "Could not start Milvus Lite (" + binary + "): " + e.getMessage(),
                    e);
        }
        Thread hook = new Thread(() -> stop(process), "milvus-lite-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            awaitReady(process, port, log);
        } catch (RuntimeException e) {
            stop(process);
            Runtime.getRuntime().removeShutdownHook(hook);
            throw e;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - begin);
        LOG.info(
                "Milvus Lite up on 127.0.0.1:{} in {} ms (data {}, log {})",
                port,
                took.toMillis(),
                data,
                log);
        return new MilvusLite(data, port, process, hook, took);
    }

    /** The URI clients connect to, {@code http://127.0.0.1:<port>}. */
    public String uri() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataFile() {
        return dataFile;
    }

    /** From process start until a client had connected. */
    public Duration startupTime() {
        return startupTime;
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Stops the server (SIGTERM, then SIGKILL after a timeout); the data file stays. */
    @Override
    public void close() {
        stop(process);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already shutting down; the hook has run or will run.
        }
    }

    /**
     * The installed package: under {@code <slidestream.home>/node_modules}, else under the nearest
     * {@code node_modules} from the working directory upwards.
     */
    public static Path findPackage() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "Milvus Lite from "
                            + PACKAGE
                            + " runs on Linux x86-64 only (this is "
                            + os
                            + "/"
                            + arch
                            + "). Point milvus.uri at a Milvus server instead.");
        }
        String home = System.getProperty(HOME_PROPERTY);
        Path start = home != null ? Paths.get(home) : Paths.get("").toAbsolutePath();
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("node_modules").resolve(PACKAGE);
            if (Files.isExecutable(candidate.resolve("lib").resolve("milvus"))) {
                return candidate;
            }
            if (home != null) {
                break;
            }
        }
        throw new SlideStreamException(
                ErrorCode.STORE_UNAVAILABLE,
                "Milvus Lite is not installed: no node_modules/"
                        + PACKAGE
                        + "/lib/milvus in "
                        + (home != null ? home + " (" + HOME_PROPERTY + ")" : start + " or above")
                        + ". Run `npm ci` in the project root (or `make setup`), or point"
                        + " milvus.uri at a Milvus server.");
    }

    private static void awaitReady(Process process, int port, Path log) {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        boolean listening = false;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new SlideStreamException(
                        ErrorCode.STORE_UNAVAILABLE,
                        "Milvus Lite exited with code "
                                + process.exitValue()
                                + " before listening on port "
                                + port
                                + " (is the port or the data file in use by another server?)."
                                + " Log tail: "
                                + tail(log));
            }
            if (!listening) {
                listening = answers(port);
            }
            if (listening && clientConnects(port)) {
                return;
            }
            sleep(Duration.ofMillis(20));
        }
        throw new SlideStreamException(
                ErrorCode.STORE_UNAVAILABLE,
                "Milvus Lite did not accept clients on port "
                        + port
                        + " within "
                        + STARTUP_TIMEOUT.toSeconds()
                        + " s. Log tail: "
                        + tail(log));
    }

    private static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static boolean clientConnects(int port) {
        MilvusConfig config =
                MilvusConfig.builder()
                        .set(MilvusOptions.URI, "http://127.0.0.1:" + port)
                        .set(MilvusOptions.RPC_TIMEOUT, Duration.ofSeconds(2))
                        .build();
        try {
            MilvusClientV2 client = MilvusCollectionAdmin.connect(config);
            try {
                client.listCollections();
                return true;
            } finally {
                client.close();
            }
        } catch (RuntimeException notYet) {
            return false;
        }
    }

    private static void stop(Process process) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy(); // SIGTERM: Milvus Lite shuts down cleanly and keeps its data
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Milvus Lite did not stop within {}; killing it", STOP_TIMEOUT);
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free loopback port", e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE, "Interrupted while Milvus Lite was starting", e);
        }
    }
}
