package io.slidestream.cli;

import io.slidestream.config.KafkaConfig;
import io.slidestream.config.KafkaOptions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.local.MilvusLite;
import io.slidestream.local.SlideErasure;
import io.slidestream.local.SlidePublisher;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import java.io.PrintWriter;
import java.time.Duration;
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
                        + " snapshots and their files removed), its vectors in Milvus, an"
                        + " erasure record that names it only by its SHA-256, and (with --config)"
                        + " a tombstone on the job's slides.scanned so that the running job's"
                        + " planner forgets it too. A second run changes nothing.")
final class ForgetCommand implements Callable<Integer> {

    /** How long the tombstone may wait for Kafka. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

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
        try (MilvusLite milvus = stores.startDemoMilvus(conf);
                SlidePublisher planner = jobTopic(conf)) {
            SlideErasure.Erased erased =
                    SlideErasure.forget(
                            IcebergConfig.from(conf),
                            MilvusConfig.from(conf),
                            planner,
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
            out.println(
                    "  planner: "
                            + (planner == null && stores.demoData == null
                                    ? "no "
                                            + KafkaOptions.BOOTSTRAP_SERVERS.key()
                                            + " in the configuration, so no running job was told;"
                                            + " if a job reads these stores, add its brokers and"
                                            + " run forget again"
                                    : erased.planner()));
            out.flush();
            if (erased.plannerFailure() != null) {
                throw new SlideStreamException(
                        erased.plannerFailure().code(),
                        "the stores are done (above), but the running job's planner was not told"
                                + " to forget the slide: "
                                + erased.plannerFailure().getMessage()
                                + " Run forget again once Kafka is reachable.",
                        erased.plannerFailure());
            }
        }
        return 0;
    }

    /**
     * The job's {@code slides.scanned}, where the tombstone goes; null for a demo's stores (the
     * demo's job and broker are gone) and for a configuration without brokers.
     */
    private SlidePublisher jobTopic(Configuration conf) {
        if (stores.demoData != null || conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).isEmpty()) {
            return null;
        }
        return SlidePublisher.forJob(KafkaConfig.from(conf), "slidestream-forget", TIMEOUT);
    }
}
