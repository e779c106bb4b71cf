package io.slidestream.cli;

import io.slidestream.config.KafkaConfig;
import io.slidestream.config.KafkaOptions;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.local.SlidePublisher;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where {@code publish} and {@code watch} send their {@code SlideScanned} events: the job's own
 * keys {@code kafka.bootstrap-servers} and {@code kafka.topic.scanned}, from {@code --config} (the
 * job's file) or {@code -D}.
 */
final class KafkaPublishOptions {

    @Mixin JobConfigOptions config;

    @Option(
            names = "--scanner-id",
            paramLabel = "ID",
            defaultValue = "slidestream-cli",
            description =
                    "Who announces the slides, the events' scanner_id (default: ${DEFAULT-VALUE}).")
    String scannerId;

    @Option(
            names = "--kafka-timeout",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description =
                    "How long one publish waits for Kafka before it fails (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    /** The broker list ({@code kafka.bootstrap-servers}); required. */
    String bootstrapServers() {
        return config.load()
                .getOptional(KafkaOptions.BOOTSTRAP_SERVERS)
                .orElseThrow(
                        () ->
                                InvalidConfig.missing(
                                        KafkaOptions.BOOTSTRAP_SERVERS.key(),
                                        "give the brokers with -D "
                                                + KafkaOptions.BOOTSTRAP_SERVERS.key()
                                                + "=host:port or in the file of --config"));
    }

    /** The job's input topic ({@code kafka.topic.scanned}). */
    String topic() {
        return config.load().get(KafkaOptions.TOPIC_SCANNED);
    }

    /**
     * A publisher to {@link #topic()} on {@link #bootstrapServers()}, with the job's {@code
     * kafka.properties.*} client settings (TLS, SASL) as well.
     */
    SlidePublisher publisher() {
        bootstrapServers();
        return SlidePublisher.forJob(KafkaConfig.from(config.load()), scannerId, timeout);
    }
}
