package io.slidestream.config;

import io.slidestream.errors.InvalidConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.YamlParserUtils;

/**
 * Reads a SlideStream configuration: an optional YAML file (flat {@code a.b: v} keys or nested
 * maps, the same syntax as Flink's config.yaml) plus {@code key=value} overrides from the command
 * line. The typed {@code *Config} classes validate the result; this class only assembles it.
 */
public final class ConfigLoader {

    private ConfigLoader() {}

    /** Loads {@code file} (may be null) and applies {@code overrides} on top. */
    public static Configuration load(Path file, Map<String, String> overrides) {
        Map<String, String> flat = new TreeMap<>();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw InvalidConfig.because(
                        "configuration file "
                                + file
                                + " does not exist: pass an existing YAML file"
                                + " to --config");
            }
            Map<String, Object> yaml;
            try {
                yaml = YamlParserUtils.loadYamlFile(file.toFile());
            } catch (Exception e) {
                throw InvalidConfig.because(
                        "configuration file " + file + " is not valid YAML: " + e.getMessage(), e);
            }
            flatten("", yaml, flat);
        }
        flat.putAll(overrides);
        return Configuration.fromMap(flat);
    }

    /** Parses {@code key=value} strings (the command line's {@code -D}); a bad one is an error. */
    public static Map<String, String> parseOverrides(List<String> pairs) {
        Map<String, String> out = new TreeMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw InvalidConfig.because(
                        "configuration override '"
                                + pair
                                + "' is not key=value (example:"
                                + " -Dinference.batch-size=32)");
            }
            out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> map, Map<String, String> out) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            Object v = e.getValue();
            if (v instanceof Map) {
                flatten(key, (Map<String, Object>) v, out);
            } else if (v instanceof List) {
                StringBuilder sb = new StringBuilder();
                for (Object item : (List<Object>) v) {
                    if (sb.length() > 0) {
                        sb.append(';');
                    }
                    sb.append(item);
                }
                out.put(key, sb.toString());
            } else if (v != null) {
                out.put(key, String.valueOf(v));
            }
        }
    }
}
