package io.slidestream.source;

import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Builds the job's {@link KafkaSource} of head announcements (the JSON records {@code heads deploy}
 * publishes): every record of the topic from the start, so that a head deployed before the job
 * first ran still counts, then from the offsets in the job's checkpoints, in the consumer group
 * {@code <group>-heads}. The topic is subscribed as a pattern: a topic that does not exist yet is
 * no partitions, looked for again every minute, not a failing job.
 */
public final class HeadAnnouncementSource {
    private HeadAnnouncementSource() {}

    // Kafka 4 deprecates OffsetResetStrategy; the connector still takes it.
    @SuppressWarnings("deprecation")
    public static KafkaSource<String> create(
            String bootstrapServers, String topic, String group, Properties properties) {
        return KafkaSource.<String>builder()
                .setBootstrapServers(bootstrapServers)
                .setTopicPattern(Pattern.compile(Pattern.quote(topic)))
                .setGroupId(group + "-heads")
                .setStartingOffsets(
                        OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setValueOnlyDeserializer(new SimpleStringSchema())
                .setProperties(properties)
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }
}
