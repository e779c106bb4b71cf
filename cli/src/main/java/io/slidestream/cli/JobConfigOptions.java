package io.slidestream.cli;

import io.slidestream.config.ConfigKeys;
import io.slidestream.config.ConfigLoader;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The job's configuration on a command line ({@code --config FILE}, {@code -D key=value}): a
 * picocli mixin shared by every command that reads configuration keys.
 */
final class JobConfigOptions {
    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "The job's YAML configuration (flat 'a.b: v' keys or nested maps).")
    Path file;

    @Option(
            names = "-D",
            paramLabel = "key=value",
            description = "Sets or overrides one configuration key (repeatable).")
    List<String> overrides = new ArrayList<>();

    /** Whether any configuration was given. */
    boolean given() {
        return file != null || !overrides.isEmpty();
    }

    /** The configuration: the file, then the overrides; every key must be one SlideStream has. */
    Configuration load() {
        return load(Map.of());
    }

    /**
     * {@link #load()} for a command that uses only the keys starting with {@code prefixes}: a -D
     * key outside them is refused, as it would otherwise be silently ignored (the file is the job's
     * and may hold any key).
     */
    Configuration loadOnly(List<String> prefixes) {
        for (String key : ConfigLoader.parseOverrides(overrides).keySet()) {
            if (prefixes.stream().noneMatch(key::startsWith)) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "-D"
                                + key
                                + " does not apply to this command: it uses "
                                + prefixes.stream()
                                        .map(k -> k.endsWith(".") ? k + "*" : k)
                                        .collect(Collectors.joining(", "))
                                + "; job keys go to 'run' or 'demo'");
            }
        }
        return load();
    }

    /** {@link #load()} on top of {@code base} (keys the file and the overrides may replace). */
    Configuration load(Map<String, String> base) {
        Map<String, String> keys = new LinkedHashMap<>(base);
        if (file != null) {
            keys.putAll(ConfigLoader.load(file, Map.of()).toMap());
        }
        keys.putAll(ConfigLoader.parseOverrides(overrides));
        Configuration conf = Configuration.fromMap(keys);
        ConfigKeys.requireKnown(conf);
        return conf;
    }
}
