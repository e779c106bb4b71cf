package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.config.ConfigLoader;
import io.slidestream.local.DemoRun;
import io.slidestream.serve.SlideStreamServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code slidestream demo}: the whole streaming job on this machine - in-process Kafka, Milvus
 * Lite, an Iceberg catalog on local files, a Flink MiniCluster and a folder watcher - with a
 * summary read back from the stores at the end.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "Run the streaming job on the embedded default (Kafka, Milvus Lite, Iceberg,"
                        + " Flink MiniCluster) over a folder of slides, then summarise.")
final class DemoCommand implements Callable<Integer> {

    private static final List<String> TINY_TISSUE_CLASSES =
            List.of("ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM");

    @Option(
            names = "--slides",
            paramLabel = "DIR",
            description =
                    "Inbox folder to watch (default: generated synthetic slides plus"
                            + " CMU-1-Small-Region and one broken copy).")
    Path slides;

    @Option(
            names = "--model",
            paramLabel = "M.onnx",
            description = "Tile model (default: the gpfm-tiny test model, random weights).")
    Path model;

    @Option(names = "--tile-head", paramLabel = "H.onnx", description = "Tile classifier head.")
    Path tileHead;

    @Option(names = "--slide-head", paramLabel = "A.onnx", description = "ABMIL slide head.")
    Path slideHead;

    @Option(
            names = "--labelled-slides",
            paramLabel = "N",
            defaultValue = "0",
            description =
                    "With the generated slides, N more with a planted lesion and N without, and"
                            + " WORK_DIR/labels.csv naming them: to try `heads train` on the demo.")
    int labelledSlides;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the summary here.")
    Path summaryJson;

    @Option(
            names = "--serve",
            description =
                    "After the summary, keep the stores up and serve the dashboard and search API"
                            + " on them until Ctrl-C.")
    boolean serve;

    @Option(
            names = "--serve-port",
            defaultValue = "8080",
            description = "Port of the dashboard with --serve (default: ${DEFAULT-VALUE}).")
    int servePort;

    @Option(names = "--follow", description = "Keep watching the inbox until Ctrl-C.")
    boolean follow;

    @Option(
            names = "--work-dir",
            paramLabel = "DIR",
            description =
                    "Where Kafka, Milvus and Iceberg keep their data (default: demo-data). The"
                            + " demo clears it on every run, so it must be new, empty or made by"
                            + " an earlier demo; any other folder is refused untouched.")
    Path workDir;

    @Option(names = "--parallelism", defaultValue = "2", description = "Slots (default: 2).")
    int parallelism;

    @Option(
            names = "--timeout",
            defaultValue = "PT20M",
            description = "Give up waiting for outcomes after this (ISO-8601, default PT20M).")
    Duration timeout;

    @Option(names = "-D", paramLabel = "key=value", description = "Override a job option.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        Path tiny = home.resolve("operators/src/test/resources/gpfm-tiny");
        DemoRun.Options o = new DemoRun.Options();
        o.workDir = workDir != null ? workDir : home.resolve("demo-data");
        o.defaultWorkDir = workDir == null;
        o.slidesDir = slides;
        o.labelledSlides = labelledSlides;
        if (model == null) {
            o.model = tiny.resolve("gpfm-tiny.onnx");
            o.tileHead = tileHead != null ? tileHead : tiny.resolve("tissue-head-tiny.onnx");
            o.slideHead = slideHead != null ? slideHead : tiny.resolve("abmil-tiny.onnx");
            o.tissueClasses = TINY_TISSUE_CLASSES;
            System.out.println(
                    "NOTICE: using the gpfm-tiny test model (random weights): the pipeline is real,"
                            + " its embeddings and predictions are meaningless. Pass --model with"
                            + " a GPFM export (tools/export_onnx.py) for real ones.");
        } else {
            o.model = model;
            o.tileHead = tileHead;
            o.slideHead = slideHead;
        }
        Path cmu1 = home.resolve(".cache/slides/CMU-1-Small-Region.tiff");
        o.cmu1 = Files.isRegularFile(cmu1) ? cmu1 : null;
        o.follow = follow;
        if (serve) {
            o.dashboard =
                    (config, printer) -> {
                        SlideStreamServer server =
                                SlideStreamServer.start(config, "127.0.0.1", servePort);
                        printer.println(
                                "Dashboard on http://127.0.0.1:"
                                        + server.port()
                                        + "/ - Ctrl-C stops it (and the demo's stores)");
                        printer.flush();
                        return server;
                    };
        }
        o.timeout = timeout;
        o.parallelism = parallelism;
        o.overrides = ConfigLoader.parseOverrides(overrides);
        drainOnSignal(o);
        ObjectNode summary = DemoRun.run(o, System.out);
        if (summaryJson != null) {
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(summaryJson.toFile(), summary);
            System.out.println("Summary written to " + summaryJson);
        }
        return summary.get("slides_total").asInt() == 0 ? 1 : 0;
    }

    /**
     * Ctrl-C or SIGTERM (e.g. {@code kill}, a container stop) drains instead of dying: the demo
     * takes no new slides, finishes those in flight, prints the summary and writes {@code
     * --summary-json}. The handler replaces the JVM's default one for the first signal only (JVM
     * shutdown hooks would stop the MiniCluster and the stores underneath the slides in flight); a
     * second signal exits at once.
     */
    private static void drainOnSignal(DemoRun.Options options) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(
                    new Signal(name),
                    signal -> {
                        if (!options.drain.compareAndSet(false, true)) {
                            System.exit(128 + signal.getNumber());
                        }
                    });
        }
    }
}
