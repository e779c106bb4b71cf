package io.slidestream.settings;

import io.slidestream.errors.InvalidConfig;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Builds a typed configuration record from keys set in code, the way a job reads it from its
 * configuration file: {@code TilingConfig.builder().set(TilingOptions.TILE_PX, 512).build()}. The
 * record's own {@code from(ReadableConfig)} does the reading and the validation, so a value set
 * here is checked exactly as the same key in {@code slidestream.yaml} would be.
 *
 * @param <T> the configuration record it builds
 */
public final class ConfigBuilder<T> {
    private final Configuration conf;
    private final Function<ReadableConfig, T> reader;

    /** A builder that starts from every key's default. */
    public ConfigBuilder(Function<ReadableConfig, T> reader) {
        this(reader, new Configuration());
    }

    /** A builder that starts from the keys in {@code base} (copied). */
    public ConfigBuilder(Function<ReadableConfig, T> reader, Configuration base) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.conf = new Configuration(Objects.requireNonNull(base, "base"));
    }

    /** Sets {@code option} to {@code value}; {@code null} removes it (back to its default). */
    public <V> ConfigBuilder<T> set(ConfigOption<V> option, V value) {
        if (value == null) {
            conf.removeConfig(option);
        } else {
            conf.set(option, value);
        }
        return this;
    }

    /** Sets a file key to {@code path}; {@code null} removes it. */
    public ConfigBuilder<T> set(ConfigOption<String> option, Path path) {
        return set(option, path == null ? null : path.toString());
    }

    /**
     * Reads and validates the keys set so far.
     *
     * @throws io.slidestream.errors.SlideStreamException {@code INVALID_CONFIG} naming the first
     *     bad key and its value
     */
    public T build() {
        return reader.apply(conf);
    }

    /**
     * The value of {@code option} in {@code conf} (its default when unset); a value that does not
     * parse is refused with {@code INVALID_CONFIG} naming the key, the value and the key's
     * description.
     */
    public static <V> V read(ReadableConfig conf, ConfigOption<V> option) {
        try {
            return conf.get(option);
        } catch (IllegalArgumentException e) {
            Object raw =
                    conf instanceof Configuration c ? c.toMap().get(option.key()) : "(unreadable)";
            throw InvalidConfig.of(
                    option,
                    raw,
                    "cannot be read (" + e.getMessage() + "); " + option.description());
        }
    }

    /** As {@link #read}, or {@code null} when {@code option} is unset or blank. */
    public static String readOptional(ReadableConfig conf, ConfigOption<String> option) {
        String value = conf.getOptional(option).orElse(null);
        return value == null || value.isBlank() ? null : value;
    }
}
