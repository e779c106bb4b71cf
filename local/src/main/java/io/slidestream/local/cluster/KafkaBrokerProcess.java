package io.slidestream.local.cluster;

import io.slidestream.local.KafkaServerProperties;
import io.slidestream.local.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * A Kafka KRaft broker as its own process ({@code kafka.Kafka}, the broker's own main class, from
 * kafka_2.13 at the connector client's version), on fixed loopback ports with its logs under one
 * folder: a restart keeps topics, offsets and transactions, and the clients find it where it was.
 */
public final class KafkaBrokerProcess extends RestartableServer {
    private final Path dir;
    private final Path properties;
    private final int port;
    private final Testbed testbed;

    private KafkaBrokerProcess(Path dir, Path properties, int port, Testbed testbed) {
        super(Duration.ofSeconds(60));
        this.dir = dir;
        this.properties = properties;
        this.port = port;
        this.testbed = testbed;
    }

    /** Formats {@code dir} (once) and starts the broker on free ports. */
    public static KafkaBrokerProcess start(Testbed testbed, Path dir) {
        int[] ports = Ports.free(2);
        Properties props = KafkaServerProperties.kraft(dir, ports[0], ports[1]);
        // A restarted broker must not wait out the default 10 s before it serves again.
        props.setProperty("transaction.abort.timed.out.transaction.cleanup.interval.ms", "10000");
        Path file = KafkaServerProperties.format(dir, props);
        KafkaBrokerProcess broker = new KafkaBrokerProcess(dir, file, ports[0], testbed);
        broker.start();
        return broker;
    }

    /** Starts the process (again) on the same ports and logs. */
    @Override
    public synchronized void start() {
        ChildProcess process =
                running(
                        ChildProcess.start(
                                "kafka",
                                ChildProcess.java(
                                        testbed.classpath("kafka"),
                                        List.of("-Xmx512m", "-Dlog4j2.level=WARN"),
                                        "kafka.Kafka",
                                        List.of(properties.toString())),
                                Map.of(),
                                dir,
                                dir.resolve("kafka.log")));
        process.awaitReady("serving clients", Duration.ofSeconds(90), this::answers);
    }

    private boolean answers() {
        if (!Ports.answers(port)) {
            return false;
        }
        try (Admin admin = Admin.create(adminProperties())) {
            admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
            return true;
        } catch (Exception notYet) {
            if (notYet instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    /** Creates {@code topics} with {@code partitions} partitions each, where missing. */
    public void createTopics(int partitions, String... topics) {
        try (Admin admin = Admin.create(adminProperties())) {
            var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing =
                    java.util.Arrays.stream(topics)
                            .filter(t -> !existing.contains(t))
                            .map(t -> new NewTopic(t, partitions, (short) 1))
                            .toList();
            admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("could not create topics on " + bootstrapServers(), e);
        }
    }

    private Properties adminProperties() {
        Properties p = new Properties();
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return p;
    }

    public String bootstrapServers() {
        return KafkaServerProperties.HOST + ":" + port;
    }
}
