package io.slidestream.aggregate;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.schemas.ErrorCode;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated settings of the slide window and the slide aggregate, read once from the {@link
 * AggregateOptions} keys (or built in code) and handed to the operators as plain values.
 *
 * <p>Invalid values fail at start with an {@link ErrorCode#INVALID_CONFIG} that names the key and
 * the value.
 */
public final class AggregateConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Duration slideTimeout;
    private final Duration slideMaxDuration;
    private final Duration doneRetention;
    private final int topK;
    private final List<String> tissueClasses;

    private AggregateConfig(Builder b) {
        this.slideTimeout = b.slideTimeout;
        this.slideMaxDuration = b.slideMaxDuration;
        this.doneRetention = b.doneRetention;
        this.topK = b.topK;
        this.tissueClasses = List.copyOf(b.tissueClasses);
    }

    /** Reads and validates the {@code aggregate.*} keys; unset keys take their defaults. */
    public static AggregateConfig fromConfiguration(ReadableConfig config) {
        return builder()
                .slideTimeout(config.get(AggregateOptions.SLIDE_TIMEOUT))
                .slideMaxDuration(config.get(AggregateOptions.SLIDE_MAX_DURATION))
                .doneRetention(config.get(AggregateOptions.DONE_RETENTION))
                .topK(config.get(AggregateOptions.TOP_K))
                .tissueClasses(
                        config.getOptional(AggregateOptions.TISSUE_CLASSES).orElse(List.of()))
                .build();
    }

    /** A builder that starts from the defaults of {@link AggregateOptions}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Processing time without a new tile after which a slide is emitted as a partial result. */
    public Duration slideTimeout() {
        return slideTimeout;
    }

    /** The longest a slide stays open from its first tile. */
    public Duration slideMaxDuration() {
        return slideMaxDuration;
    }

    /** How long an emitted slide is remembered to drop its late tiles; zero for not at all. */
    public Duration doneRetention() {
        return doneRetention;
    }

    /** How many top-attention tiles a slide result lists. */
    public int topK() {
        return topK;
    }

    /** Labels of the tile head's classes; empty for generated labels {@code class_<i>}. */
    public List<String> tissueClasses() {
        return tissueClasses;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof AggregateConfig)) {
            return false;
        }
        AggregateConfig c = (AggregateConfig) o;
        return topK == c.topK
                && slideTimeout.equals(c.slideTimeout)
                && slideMaxDuration.equals(c.slideMaxDuration)
                && doneRetention.equals(c.doneRetention)
                && tissueClasses.equals(c.tissueClasses);
    }

    @Override
    public int hashCode() {
        return Objects.hash(slideTimeout, slideMaxDuration, doneRetention, topK, tissueClasses);
    }

    @Override
    public String toString() {
        return "AggregateConfig{slideTimeout="
                + slideTimeout
                + ", slideMaxDuration="
                + slideMaxDuration
                + ", doneRetention="
                + doneRetention
                + ", topK="
                + topK
                + ", tissueClasses="
                + tissueClasses
                + "}";
    }

    /** Builds an {@link AggregateConfig}; {@link #build()} checks every value. */
    public static final class Builder {
        private Duration slideTimeout = AggregateOptions.SLIDE_TIMEOUT.defaultValue();
        private Duration slideMaxDuration = AggregateOptions.SLIDE_MAX_DURATION.defaultValue();
        private Duration doneRetention = AggregateOptions.DONE_RETENTION.defaultValue();
        private int topK = AggregateOptions.TOP_K.defaultValue();
        private List<String> tissueClasses = new ArrayList<>();

        private Builder() {}

        public Builder slideTimeout(Duration slideTimeout) {
            this.slideTimeout = slideTimeout;
            return this;
        }

        public Builder slideMaxDuration(Duration slideMaxDuration) {
            this.slideMaxDuration = slideMaxDuration;
            return this;
        }

        public Builder doneRetention(Duration doneRetention) {
            this.doneRetention = doneRetention;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder tissueClasses(List<String> tissueClasses) {
            this.tissueClasses = tissueClasses == null ? new ArrayList<>() : tissueClasses;
            return this;
        }

        public AggregateConfig build() {
            String timeoutKey = AggregateOptions.SLIDE_TIMEOUT.key();
            if (slideTimeout == null || slideTimeout.isNegative() || slideTimeout.isZero()) {
                throw InvalidConfig.of(
                        timeoutKey,
                        slideTimeout,
                        "is invalid: expected a positive duration, e.g. '1 h'");
            }
            if (slideMaxDuration == null || slideMaxDuration.compareTo(slideTimeout) < 0) {
                throw InvalidConfig.of(
                        AggregateOptions.SLIDE_MAX_DURATION.key(),
                        slideMaxDuration,
                        "is invalid: expected a duration of at least "
                                + timeoutKey
                                + " ("
                                + slideTimeout
                                + ")");
            }
            String retentionKey = AggregateOptions.DONE_RETENTION.key();
            if (doneRetention == null || doneRetention.isNegative()) {
                throw InvalidConfig.of(
                        retentionKey,
                        doneRetention,
                        "is invalid: expected zero or a positive duration, e.g. '1 h'");
            }
            if (topK < 0) {
                throw InvalidConfig.of(
                        AggregateOptions.TOP_K.key(),
                        topK,
                        "is invalid: expected zero or more (0 lists no tiles)");
            }
            String classesKey = AggregateOptions.TISSUE_CLASSES.key();
            List<String> seen = new ArrayList<>();
            for (String label : tissueClasses) {
                if (label == null || label.isBlank()) {
                    throw InvalidConfig.of(
                            classesKey,
                            tissueClasses,
                            "has an empty label: give one label per tile-head class,"
                                    + " separated by ';'");
                }
                if (seen.contains(label.strip())) {
                    throw InvalidConfig.of(
                            classesKey,
                            tissueClasses,
                            "names '" + label.strip() + "' twice: labels must be distinct");
                }
                seen.add(label.strip());
            }
            tissueClasses = seen;
            return new AggregateConfig(this);
        }
    }
}
