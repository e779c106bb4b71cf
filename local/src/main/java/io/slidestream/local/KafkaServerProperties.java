package io.slidestream.local;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;

/**
 * The {@code server.properties} of a one-node KRaft broker (combined broker and controller) on
 * loopback, and the formatting of its log directory: shared by the in-process {@link
 * EmbeddedKafkaBroker} and the broker process of the local cluster.
 */
public final class KafkaServerProperties {
    public static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;

    private KafkaServerProperties() {}

    /** A one-node KRaft broker keeping its logs under {@code dir}/logs. */
    public static Properties kraft(Path dir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(NODE_ID));
        p.setProperty("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.setProperty(
                "listeners",
                "PLAINTEXT://"
                        + HOST
                        + ":"
                        + brokerPort
                        + ",CONTROLLER://"
                        + HOST
                        + ":"
                        + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", dir.resolve("logs").toString());
        // One node: every internal topic has one replica, and small ones start faster.
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "1");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("num.partitions", "1");
        return p;
    }

    /**
     * Writes {@code props} to {@code dir}/server.properties and formats the log directory with a
     * new cluster id, unless an earlier run formatted it (then its cluster id and data stay).
     *
     * @return the properties file
     */
    public static Path format(Path dir, Properties props) {
        return format(dir, props, List.of());
    }

    /** As {@link #format(Path, Properties)}, with more arguments to the storage tool. */
    public static Path format(Path dir, Properties props, List<String> extraArgs) {
        Path file = dir.resolve("server.properties");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "SlideStream KRaft broker");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (Files.exists(dir.resolve("logs").resolve("meta.properties"))) {
            return file;
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int code;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            code =
                    StorageTool.execute(
                            java.util.stream.Stream.concat(
                                            java.util.stream.Stream.of(
                                                    "format",
                                                    "-t",
                                                    Uuid.randomUuid().toString(),
                                                    "-c",
                                                    file.toString()),
                                            extraArgs.stream())
                                    .toArray(String[]::new),
                            print);
        }
        if (code != 0) {
            throw new SlideStreamException(
                    ErrorCode.INTERNAL,
                    "formatting the broker's log directory failed (exit "
                            + code
                            + "): "
                            + output.toString(StandardCharsets.UTF_8).strip());
        }
        return file;
    }
}
