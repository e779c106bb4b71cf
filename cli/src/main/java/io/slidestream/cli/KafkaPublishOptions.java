package io.slidestream.cli;

import io.slidestream.local.SlidePublisher;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Where {@code publish} and {@code watch} send their {@code SlideScanned} events. */
final class KafkaPublishOptions {

    @Option(
            names = "--bootstrap-servers",
            required = true,
            paramLabel = "HOST:PORT",
            description = "Kafka brokers as host:port[,host:port...].")
    String bootstrapServers;

    @Option(
            names = "--topic",
            paramLabel = "TOPIC",
            defaultValue = "slides.scanned",
            description = "Topic of the SlideScanned events (default: ${DEFAULT-VALUE}).")
    String topic;

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

    SlidePublisher publisher() {
        return SlidePublisher.builder()
                .bootstrapServers(bootstrapServers)
                .topic(topic)
                .scannerId(scannerId)
                .timeout(timeout)
                .build();
    }
}
