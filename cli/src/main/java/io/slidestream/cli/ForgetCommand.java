package io.slidestream.cli;

import io.slidestream.local.MilvusLite;
import io.slidestream.local.SlideErasure;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream forget}: erase one slide from the stores on request ({@link SlideErasure}).
 */
@Command(
        name = "forget",
        customSynopsis = {
            "slidestream forget (--demo-data DIR | --config FILE) --slide-id ID [--reason TEXT]",
            "                   [--requested-by NAME]"
        },
        mixinStandardHelpOptions = true,
        description =
                "Erase a slide: its rows in the Iceberg tables (rewritten without them, older"
                        + " snapshots and their files removed), its vectors in Milvus, and an"
                        + " erasure record that names it only by its SHA-256. A second run does"
                        + " nothing.")
final class ForgetCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin StoreOptions stores;

    @Option(names = "--slide-id", required = true, paramLabel = "ID", description = "The slide.")
    String slideId;

    @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "", description = "Why.")
    String reason;

    @Option(
            names = "--requested-by",
            paramLabel = "NAME",
            description = "Who asked (default: the user running the command).")
    String requestedBy;

    @Override
    public Integer call() {
        Configuration conf = stores.require();
        PrintWriter out = spec.commandLine().getOut();
        try (MilvusLite milvus = stores.startDemoMilvus(conf)) {
            SlideErasure.Erased erased =
                    SlideErasure.forget(
                            IcebergConfig.from(conf),
                            MilvusConfig.from(conf),
                            slideId,
                            requestedBy != null ? requestedBy : System.getProperty("user.name"),
                            reason);
            if (erased.nothing()) {
                out.println(
                        "The stores hold nothing of slide "
                                + slideId
                                + " (forgotten before, or never stored): nothing done.");
            } else {
                out.println("Erased slide " + slideId + ":");
                erased.removed().forEach(r -> out.println("  " + r));
                if (!erased.compaction().isEmpty()) {
                    out.println("  milvus: " + erased.compaction());
                }
                out.println(
                        "  recorded in the erasures table as "
                                + SlideErasure.sha256(slideId)
                                + " (Kafka's topics keep their records until their retention"
                                + " ends: docs/stores.md)");
            }
            out.flush();
        }
        return 0;
    }
}
