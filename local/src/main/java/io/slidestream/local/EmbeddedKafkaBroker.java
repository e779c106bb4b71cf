package io.slidestream.local;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker (KRaft, combined broker + controller, one node) running inside this JVM on
 * free loopback ports, for the embedded demo and the integration tests. It is kafka_2.13's own
 * server, the same version as the clients the Flink connector brings (a mismatch made every produce
 * time out), so transactions, consumer groups and {@code read_committed} behave as on a cluster; it
 * only has one replica of everything.
 *
 * <p>Lifecycle: {@link Builder#start()} writes a {@code server.properties}, formats the log
 * directory with {@code StorageTool} (skipped when the directory was formatted before, so a given
 * data directory keeps its topics across runs), starts {@link KafkaRaftServer} and waits until an
 * admin client sees the broker. {@link #close()} shuts it down and deletes the data directory when
 * it made a temporary one. Startup failures are {@link SlideStreamException}s with code INTERNAL
 * and the formatter's output.
 *
 * <p>Logs: the broker logs through SLF4J under {@code kafka} and {@code org.apache.kafka}; the
 * command line's log configuration keeps them at WARN.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final String HOST = KafkaServerProperties.HOST;

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final int port;
    private final int securePort;
    private final long startupMillis;
    private boolean closed;

    private EmbeddedKafkaBroker(
            KafkaRaftServer server,
            Path dataDir,
            boolean ownsDataDir,
            int port,
            int securePort,
            long startupMillis) {
        this.server = server;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
        this.port = port;
        this.securePort = securePort;
        this.startupMillis = startupMillis;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a broker on a temporary data directory (deleted on close). */
    public static EmbeddedKafkaBroker start() {
        return builder().start();
    }

    /** {@code 127.0.0.1:<port>}, for every Kafka client. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    /**
     * {@code 127.0.0.1:<port>} of the SASL_SSL listener (SCRAM-SHA-512 over TLS) a {@link
     * Builder#saslSsl} broker has besides its plaintext one.
     */
    public String secureBootstrapServers() {
        if (securePort == 0) {
            throw new IllegalStateException("this broker has no SASL_SSL listener (saslSsl)");
        }
        return HOST + ":" + securePort;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Milliseconds from format to a broker that answers an admin client. */
    public long startupMillis() {
        return startupMillis;
    }

    /** Creates the topics that do not exist yet, each with {@code partitions} partitions. */
    public void createTopics(int partitions, String... topics) {
        List<NewTopic> newTopics = new ArrayList<>();
        for (String topic : topics) {
            newTopics.add(new NewTopic(topic, partitions, (short) 1));
        }
        try (Admin admin = Admin.create(adminProperties())) {
            for (var entry : admin.createTopics(newTopics).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new SlideStreamException(
                                ErrorCode.INTERNAL,
                                "could not create topic " + entry.getKey() + ": " + e.getCause(),
                                e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "interrupted creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new SlideStreamException(
                    ErrorCode.INTERNAL, "creating topics took over 30 s on the embedded broker", e);
        }
    }

    /** The topics that exist (internal ones excluded). */
    public Set<String> topics() {
        try (Admin admin = Admin.create(adminProperties())) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new SlideStreamException(
                    ErrorCode.INTERNAL, "could not list topics of the embedded broker: " + e, e);
        }
    }

    private Properties adminProperties() {
        Properties p = new Properties();
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** Shuts the broker down, waits for it, and deletes the data directory if it made it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.shutdown();
        server.awaitShutdown();
        if (ownsDataDir) {
            deleteRecursively(dataDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("Could not delete the broker's data directory {}: {}", dir, e.toString());
        }
    }

    /** Settings of an embedded broker; every one optional. */
    public static final class Builder {
        private Path dataDir;
        private final Map<String, String> overrides = new TreeMap<>();
        private String scramUser;
        private String scramPassword;
        private Path keystore;
        private String keystorePassword;

        private Builder() {}

        /**
         * Keep the broker's data in {@code dir} (created if missing, kept on close; topics and
         * offsets survive a restart). Without it a temporary directory is used and deleted.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Overrides or adds a broker property (e.g. {@code auto.create.topics.enable=false}). */
        public Builder brokerProperty(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /**
         * Also listen for SASL_SSL clients, as a hospital's broker does: TLS with the key and
         * certificate of {@code keystore} (PKCS12), SCRAM-SHA-512 with one user, created when the
         * log directory is formatted. Topics are created and the broker's own traffic runs on the
         * plaintext listener.
         */
        public Builder saslSsl(
                String user, String password, Path keystore, String keystorePassword) {
            this.scramUser = user;
            this.scramPassword = password;
            this.keystore = keystore;
            this.keystorePassword = keystorePassword;
            return this;
        }

        public EmbeddedKafkaBroker start() {
            long begin = System.nanoTime();
            boolean owns = dataDir == null;
            Path dir;
            try {
                dir = owns ? Files.createTempDirectory("slidestream-kafka-") : dataDir;
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new SlideStreamException(
                        ErrorCode.INTERNAL, "cannot create the broker's data directory: " + e, e);
            }
            try {
                boolean secure = scramUser != null;
                int[] ports = Ports.free(secure ? 3 : 2);
                Properties props = KafkaServerProperties.kraft(dir, ports[0], ports[1]);
                List<String> formatArgs = new ArrayList<>();
                if (secure) {
                    String listener = "SASL_SSL://" + HOST + ":" + ports[2];
                    props.setProperty("listeners", props.getProperty("listeners") + "," + listener);
                    props.setProperty(
                            "advertised.listeners",
                            props.getProperty("advertised.listeners") + "," + listener);
                    props.setProperty(
                            "listener.security.protocol.map",
                            props.getProperty("listener.security.protocol.map")
                                    + ",SASL_SSL:SASL_SSL");
                    props.setProperty("sasl.enabled.mechanisms", "SCRAM-SHA-512");
                    props.setProperty(
                            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                            "org.apache.kafka.common.security.scram.ScramLoginModule required;");
                    props.setProperty(
                            "listener.name.sasl_ssl.ssl.keystore.location", keystore.toString());
                    props.setProperty(
                            "listener.name.sasl_ssl.ssl.keystore.password", keystorePassword);
                    props.setProperty("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12");
                    formatArgs.add("--add-scram");
                    formatArgs.add(
                            "SCRAM-SHA-512=[name="
                                    + scramUser
                                    + ",password="
                                    + scramPassword
                                    + "]");
                }
                props.putAll(overrides);
                KafkaServerProperties.format(dir, props, formatArgs);
                KafkaRaftServer server =
                        new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
                server.startup();
                awaitReady(server, ports[0]);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
                LOG.info("Embedded Kafka broker on {}:{} started in {} ms", HOST, ports[0], millis);
                return new EmbeddedKafkaBroker(
                        server, dir, owns, ports[0], secure ? ports[2] : 0, millis);
            } catch (RuntimeException e) {
                if (owns) {
                    deleteRecursively(dir);
                }
                throw e instanceof SlideStreamException
                        ? e
                        : new SlideStreamException(
                                ErrorCode.INTERNAL,
                                "the embedded Kafka broker did not start: " + e,
                                e);
            }
        }

        private static void awaitReady(KafkaRaftServer server, int port) {
            Properties p = new Properties();
            p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, HOST + ":" + port);
            try (Admin admin = Admin.create(p)) {
                admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                server.shutdown();
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw new SlideStreamException(
                        ErrorCode.INTERNAL,
                        "the embedded Kafka broker started but did not answer within 60 s: " + e,
                        e);
            }
        }
    }
}
