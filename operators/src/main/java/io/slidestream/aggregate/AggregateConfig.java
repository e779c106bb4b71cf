package io.slidestream.aggregate;

import static io.slidestream.errors.InvalidConfig.check;
import static io.slidestream.settings.ConfigBuilder.read;

import io.slidestream.settings.ConfigBuilder;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated settings of the slide window and the slide aggregate; each component is the {@link
 * AggregateOptions} key of the same name. {@code tissueClasses} is empty for generated labels
 * {@code class_<i>}. Invalid values fail at start with {@code INVALID_CONFIG} naming the key and
 * the value.
 */
public record AggregateConfig(
        Duration slideTimeout,
        Duration slideMaxDuration,
        Duration doneRetention,
        int topK,
        List<String> tissueClasses,
        boolean liveHeads)
        implements Serializable {

    public AggregateConfig {
        check(
                slideTimeout != null && !slideTimeout.isNegative() && !slideTimeout.isZero(),
                AggregateOptions.SLIDE_TIMEOUT,
                slideTimeout,
                "a positive duration, e.g. '1 h'");
        check(
                slideMaxDuration != null && slideMaxDuration.compareTo(slideTimeout) >= 0,
                AggregateOptions.SLIDE_MAX_DURATION,
                slideMaxDuration,
                "a duration of at least "
                        + AggregateOptions.SLIDE_TIMEOUT.key()
                        + " ("
                        + slideTimeout
                        + ")");
        check(
                doneRetention != null && !doneRetention.isNegative(),
                AggregateOptions.DONE_RETENTION,
                doneRetention,
                "zero or a positive duration, e.g. '1 h'");
        check(topK >= 0, AggregateOptions.TOP_K, topK, "zero or more (0 lists no tiles)");
        List<String> labels = new ArrayList<>();
        for (String label : tissueClasses == null ? List.<String>of() : tissueClasses) {
            check(
                    label != null && !label.isBlank(),
                    AggregateOptions.TISSUE_CLASSES,
                    tissueClasses,
                    "one label per tile-head class, separated by ';', and no empty label");
            check(
                    !labels.contains(label.strip()),
                    AggregateOptions.TISSUE_CLASSES,
                    tissueClasses,
                    "distinct labels, not '" + label.strip() + "' twice");
            labels.add(label.strip());
        }
        tissueClasses = List.copyOf(labels);
    }

    /** Reads the {@code aggregate.*} keys; unset keys take their defaults. */
    public static AggregateConfig from(ReadableConfig conf) {
        return new AggregateConfig(
                read(conf, AggregateOptions.SLIDE_TIMEOUT),
                read(conf, AggregateOptions.SLIDE_MAX_DURATION),
                read(conf, AggregateOptions.DONE_RETENTION),
                read(conf, AggregateOptions.TOP_K),
                conf.getOptional(AggregateOptions.TISSUE_CLASSES).orElse(List.of()),
                read(conf, AggregateOptions.LIVE_HEADS));
    }

    /** Keys set in code, read and checked as {@link #from} does. */
    public static ConfigBuilder<AggregateConfig> builder() {
        return new ConfigBuilder<>(AggregateConfig::from);
    }
}
