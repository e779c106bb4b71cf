package io.slidestream.sink;

import static io.slidestream.settings.ConfigBuilder.read;
import static io.slidestream.settings.ConfigBuilder.readOptional;

import io.milvus.v2.common.IndexParam;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.settings.ConfigBuilder;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated settings of the Milvus sinks and reader; each component is the {@link
 * MilvusOptions} key of the same name ({@code initialBackoff}, {@code maxBackoff} and {@code
 * maxRetryWait} are the {@code milvus.retry.*} keys; {@code authToken}, {@code databaseName} and
 * {@code trustCert} ({@code milvus.tls.trust-cert}) are null when unset and read through {@link
 * #token()}, {@link #database()} and {@link #tlsTrustCert()}). Every check runs in the constructor
 * and fails with {@code INVALID_CONFIG} naming the key and the bad value.
 */
public record MilvusConfig(
        String uri,
        String authToken,
        String databaseName,
        String tilesCollection,
        String slidesCollection,
        IndexParam.IndexType indexType,
        IndexParam.MetricType metricType,
        Map<String, String> indexParams,
        Map<String, String> searchParams,
        int dimension,
        int batchSize,
        Duration flushInterval,
        Duration rpcTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxRetryWait,
        String trustCert)
        implements Serializable {

    /** The largest dimension Milvus accepts for a float vector. */
    public static final int MAX_DIMENSION = 32768;

    /** The largest batch Milvus accepts comfortably in one request (64 MiB gRPC message limit). */
    public static final int MAX_BATCH_SIZE = 10_000;

    private static final IndexParam.MetricType[] METRICS = {
        IndexParam.MetricType.COSINE, IndexParam.MetricType.IP, IndexParam.MetricType.L2
    };

    public MilvusConfig {
        checkUri(uri);
        authToken = blankToNull(authToken);
        trustCert = blankToNull(trustCert);
        if (trustCert != null && !uri.startsWith("https://")) {
            throw InvalidConfig.of(
                    MilvusOptions.TLS_TRUST_CERT, trustCert, "needs an https:// milvus.uri");
        }
        databaseName = blankToNull(databaseName);
        checkCollectionName(MilvusOptions.TILES_COLLECTION, tilesCollection);
        checkCollectionName(MilvusOptions.SLIDES_COLLECTION, slidesCollection);
        if (tilesCollection.equals(slidesCollection)) {
            throw InvalidConfig.of(
                    MilvusOptions.SLIDES_COLLECTION,
                    slidesCollection,
                    "must differ from " + MilvusOptions.TILES_COLLECTION.key());
        }
        indexParams = Map.copyOf(indexParams);
        searchParams = Map.copyOf(searchParams);
        if (dimension < 0 || dimension > MAX_DIMENSION) {
            throw InvalidConfig.of(
                    MilvusOptions.DIMENSION,
                    dimension,
                    "must be 0 (from the first record) or 1.." + MAX_DIMENSION);
        }
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw InvalidConfig.of(
                    MilvusOptions.BATCH_SIZE, batchSize, "must be 1.." + MAX_BATCH_SIZE);
        }
        checkDuration(MilvusOptions.FLUSH_INTERVAL, flushInterval, true);
        checkDuration(MilvusOptions.RPC_TIMEOUT, rpcTimeout, false);
        checkDuration(MilvusOptions.RETRY_INITIAL_BACKOFF, initialBackoff, false);
        checkDuration(MilvusOptions.RETRY_MAX_BACKOFF, maxBackoff, false);
        checkDuration(MilvusOptions.RETRY_MAX_WAIT, maxRetryWait, true);
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw InvalidConfig.of(
                    MilvusOptions.RETRY_MAX_BACKOFF,
                    maxBackoff,
                    "must not be shorter than "
                            + MilvusOptions.RETRY_INITIAL_BACKOFF.key()
                            + " ("
                            + initialBackoff
                            + ")");
        }
    }

    /** Reads every {@code milvus.*} key; unset keys take their defaults. */
    public static MilvusConfig from(ReadableConfig conf) {
        return new MilvusConfig(
                read(conf, MilvusOptions.URI),
                readOptional(conf, MilvusOptions.TOKEN),
                readOptional(conf, MilvusOptions.DATABASE),
                read(conf, MilvusOptions.TILES_COLLECTION),
                read(conf, MilvusOptions.SLIDES_COLLECTION),
                parseEnum(
                        MilvusOptions.INDEX_TYPE,
                        read(conf, MilvusOptions.INDEX_TYPE),
                        IndexParam.IndexType.values()),
                parseEnum(
                        MilvusOptions.METRIC_TYPE, read(conf, MilvusOptions.METRIC_TYPE), METRICS),
                read(conf, MilvusOptions.INDEX_PARAMS),
                read(conf, MilvusOptions.SEARCH_PARAMS),
                read(conf, MilvusOptions.DIMENSION),
                read(conf, MilvusOptions.BATCH_SIZE),
                read(conf, MilvusOptions.FLUSH_INTERVAL),
                read(conf, MilvusOptions.RPC_TIMEOUT),
                read(conf, MilvusOptions.RETRY_INITIAL_BACKOFF),
                read(conf, MilvusOptions.RETRY_MAX_BACKOFF),
                read(conf, MilvusOptions.RETRY_MAX_WAIT),
                readOptional(conf, MilvusOptions.TLS_TRUST_CERT));
    }

    /** Keys set in code, read and checked as {@link #from} does. */
    public static ConfigBuilder<MilvusConfig> builder() {
        return new ConfigBuilder<>(MilvusConfig::from);
    }

    /** A builder holding this config's values, to derive a variant. */
    public ConfigBuilder<MilvusConfig> toBuilder() {
        Configuration c = new Configuration();
        c.set(MilvusOptions.URI, uri);
        c.set(MilvusOptions.TILES_COLLECTION, tilesCollection);
        c.set(MilvusOptions.SLIDES_COLLECTION, slidesCollection);
        c.set(MilvusOptions.INDEX_TYPE, indexType.name());
        c.set(MilvusOptions.METRIC_TYPE, metricType.name());
        c.set(MilvusOptions.INDEX_PARAMS, indexParams);
        c.set(MilvusOptions.SEARCH_PARAMS, searchParams);
        c.set(MilvusOptions.DIMENSION, dimension);
        c.set(MilvusOptions.BATCH_SIZE, batchSize);
        c.set(MilvusOptions.FLUSH_INTERVAL, flushInterval);
        c.set(MilvusOptions.RPC_TIMEOUT, rpcTimeout);
        c.set(MilvusOptions.RETRY_INITIAL_BACKOFF, initialBackoff);
        c.set(MilvusOptions.RETRY_MAX_BACKOFF, maxBackoff);
        c.set(MilvusOptions.RETRY_MAX_WAIT, maxRetryWait);
        return new ConfigBuilder<>(MilvusConfig::from, c)
                .set(MilvusOptions.TOKEN, authToken)
                .set(MilvusOptions.DATABASE, databaseName)
                .set(MilvusOptions.TLS_TRUST_CERT, trustCert);
    }

    /** A copy with another URI (the embedded run learns Milvus Lite's port at start). */
    public MilvusConfig withUri(String newUri) {
        return toBuilder().set(MilvusOptions.URI, newUri).build();
    }

    public Optional<String> token() {
        return Optional.ofNullable(authToken);
    }

    /** What Milvus's TLS certificate must chain to, when not the JVM's default trust. */
    public Optional<String> tlsTrustCert() {
        return Optional.ofNullable(trustCert);
    }

    /** The database, only when configured (Milvus Lite rejects any database in the connect). */
    public Optional<String> database() {
        return Optional.ofNullable(databaseName);
    }

    @Override
    public String toString() {
        // Never print the token.
        return String.format(
                "MilvusConfig{uri=%s, database=%s, collections=%s/%s, index=%s/%s, batch=%d}",
                uri,
                databaseName,
                tilesCollection,
                slidesCollection,
                indexType,
                metricType,
                batchSize);
    }

    private static void checkUri(String value) {
        if (value == null || value.isBlank()) {
            throw InvalidConfig.of(
                    MilvusOptions.URI, value, "is required, e.g. http://127.0.0.1:19530");
        }
        try {
            URI parsed = new URI(value);
            String scheme = parsed.getScheme();
            if (scheme == null
                    || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("tcp"))
                    || parsed.getHost() == null) {
                throw InvalidConfig.of(
                        MilvusOptions.URI,
                        value,
                        "must be http://host:port or https://host:port (a Milvus server,"
                                + " not a local .db file: start Milvus Lite and use its"
                                + " address)");
            }
        } catch (URISyntaxException e) {
            throw InvalidConfig.of(MilvusOptions.URI, value, "is not a URI: " + e.getMessage());
        }
    }

    private static void checkCollectionName(ConfigOption<String> option, String value) {
        // Milvus collection names: a letter or underscore first, then letters, digits, _.
        if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,254}")) {
            throw InvalidConfig.of(
                    option,
                    value,
                    "must start with a letter or '_' and hold only letters, digits and '_'");
        }
    }

    private static void checkDuration(ConfigOption<Duration> option, Duration value, boolean zero) {
        if (value == null || value.isNegative() || (!zero && value.isZero())) {
            throw InvalidConfig.of(option, value, zero ? "must not be negative" : "must be > 0");
        }
    }

    private static <E extends Enum<E>> E parseEnum(
            ConfigOption<String> option, String value, E[] allowed) {
        String wanted = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
        for (E candidate : allowed) {
            if (candidate.name().equalsIgnoreCase(wanted)) {
                return candidate;
            }
        }
        throw InvalidConfig.of(option, value, "must be one of " + Arrays.toString(allowed));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
