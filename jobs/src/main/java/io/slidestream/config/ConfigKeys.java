package io.slidestream.config;

import io.slidestream.aggregate.AggregateOptions;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.slide.SlideReader;
import io.slidestream.tiling.TilingOptions;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.description.HtmlFormatter;

/**
 * Every SlideStream configuration key, collected from the {@code *Options} classes, and a check
 * that a configuration names no key SlideStream does not know under its own prefixes: a misspelt
 * {@code milvus.url} would otherwise be ignored silently and the default used. Keys outside those
 * prefixes (Flink's own, such as {@code parallelism.default}) pass untouched.
 */
public final class ConfigKeys {

    /** Prefixes SlideStream owns; a key under one of them must be a known option. */
    public static final List<String> PREFIXES =
            List.of(
                    "job.",
                    "slides.",
                    "kafka.",
                    "milvus.",
                    "iceberg.",
                    "inference.",
                    "tiling.",
                    "aggregate.",
                    "serve.");

    private static final List<Class<?>> OPTION_CLASSES =
            List.of(
                    JobOptions.class,
                    SlideReader.class,
                    KafkaOptions.class,
                    TilingOptions.class,
                    InferenceOptions.class,
                    AggregateOptions.class,
                    MilvusOptions.class,
                    IcebergOptions.class,
                    ServeOptions.class);

    private static final Map<String, ConfigOption<?>> OPTIONS = collect();

    private ConfigKeys() {}

    /**
     * Every option as a Markdown table (key, default, description), grouped by area in key order:
     * the source of {@code docs/configuration.md} ({@code slidestream config --markdown}).
     */
    public static String markdownTable() {
        StringBuilder md = new StringBuilder("| key | default | description |\n|---|---|---|\n");
        for (ConfigOption<?> option : OPTIONS.values()) {
            String def = option.hasDefaultValue() ? String.valueOf(option.defaultValue()) : "";
            String text =
                    new HtmlFormatter()
                            .format(option.description())
                            .replaceAll("<[^>]+>", "")
                            .replace("|", "\\|")
                            .replace("\n", " ");
            md.append("| `")
                    .append(option.key())
                    .append("` | ")
                    .append(def.isEmpty() ? "(none)" : "`" + def.replace("|", "\\|") + "`")
                    .append(" | ")
                    .append(text)
                    .append(" |\n");
        }
        return md.toString();
    }

    /** All option keys, sorted. */
    public static Set<String> keys() {
        return OPTIONS.keySet();
    }

    /**
     * Fails with INVALID_CONFIG naming the first unknown key under a SlideStream prefix. Map
     * options may be given entry by entry ({@code iceberg.catalog-properties.io-impl: ...}), and
     * {@code kafka.properties.*} passes any Kafka client property.
     */
    public static void requireKnown(Configuration conf) {
        Set<String> unknown = new TreeSet<>();
        for (String key : conf.keySet()) {
            if (PREFIXES.stream().anyMatch(key::startsWith) && !isKnown(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            String key = unknown.iterator().next();
            throw InvalidConfig.because(
                    "configuration key '"
                            + key
                            + "' is not a SlideStream option"
                            + (unknown.size() > 1 ? " (nor are " + unknown + ")" : "")
                            + "; the keys under "
                            + key.substring(0, key.indexOf('.') + 1)
                            + " are "
                            + keysUnder(key.substring(0, key.indexOf('.') + 1)));
        }
    }

    private static boolean isKnown(String key) {
        if (OPTIONS.containsKey(key) || key.startsWith(KafkaOptions.PROPERTIES_PREFIX)) {
            return true;
        }
        for (ConfigOption<?> option : OPTIONS.values()) {
            // Map options are the ones with a map default (Map.of()); Flink hides the type.
            if (option.hasDefaultValue()
                    && option.defaultValue() instanceof Map
                    && key.startsWith(option.key() + ".")) {
                return true;
            }
        }
        return false;
    }

    private static Set<String> keysUnder(String prefix) {
        Set<String> out = new TreeSet<>();
        for (String key : OPTIONS.keySet()) {
            if (key.startsWith(prefix)) {
                out.add(key);
            }
        }
        return out;
    }

    private static Map<String, ConfigOption<?>> collect() {
        Map<String, ConfigOption<?>> out = new TreeMap<>();
        for (Class<?> type : OPTION_CLASSES) {
            for (Field f : type.getFields()) {
                if (Modifier.isStatic(f.getModifiers())
                        && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        ConfigOption<?> option = (ConfigOption<?>) f.get(null);
                        out.put(option.key(), option);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return out;
    }
}
