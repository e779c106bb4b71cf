package io.slidestream.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class AggregateConfigTest {

    @Test
    void takesDefaultsForUnsetKeys() {
        AggregateConfig config = AggregateConfig.from(new Configuration());

        assertThat(config.slideTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(config.doneRetention()).isEqualTo(Duration.ofHours(1));
        assertThat(config.topK()).isEqualTo(16);
        assertThat(config.tissueClasses()).isEmpty();
    }

    @Test
    void readsEveryKey() {
        Configuration conf = new Configuration();
        conf.setString("aggregate.slide-timeout", "15 min");
        conf.setString("aggregate.done-retention", "0 s");
        conf.setString("aggregate.top-k", "5");
        conf.setString("aggregate.tissue-classes", "tumor; stroma;necrosis");

        AggregateConfig config = AggregateConfig.from(conf);

        assertThat(config.slideTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.doneRetention()).isZero();
        assertThat(config.topK()).isEqualTo(5);
        assertThat(config.tissueClasses()).containsExactly("tumor", "stroma", "necrosis");
    }

    @Test
    void rejectsNonPositiveTimeoutNamingKeyAndValue() {
        Configuration conf = new Configuration();
        conf.setString("aggregate.slide-timeout", "0 s");

        assertThatThrownBy(() -> AggregateConfig.from(conf))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageContaining("aggregate.slide-timeout")
                .hasMessageContaining("PT0S");
    }

    @Test
    void rejectsNegativeTopKAndRetention() {
        assertThatThrownBy(() -> AggregateConfig.builder().set(AggregateOptions.TOP_K, -1).build())
                .hasMessageContaining("aggregate.top-k")
                .hasMessageContaining("-1");
        assertThatThrownBy(
                        () ->
                                AggregateConfig.builder()
                                        .set(
                                                AggregateOptions.DONE_RETENTION,
                                                Duration.ofSeconds(-5))
                                        .build())
                .hasMessageContaining("aggregate.done-retention")
                .hasMessageContaining("PT-5S");
    }

    @Test
    void rejectsBlankAndRepeatedTissueClasses() {
        assertThatThrownBy(
                        () ->
                                AggregateConfig.builder()
                                        .set(AggregateOptions.TISSUE_CLASSES, List.of("tumor", " "))
                                        .build())
                .hasMessageContaining("aggregate.tissue-classes")
                .hasMessageContaining("empty label");
        assertThatThrownBy(
                        () ->
                                AggregateConfig.builder()
                                        .set(
                                                AggregateOptions.TISSUE_CLASSES,
                                                List.of("tumor", "tumor"))
                                        .build())
                .hasMessageContaining("aggregate.tissue-classes")
                .hasMessageContaining("'tumor' twice");
    }
}
