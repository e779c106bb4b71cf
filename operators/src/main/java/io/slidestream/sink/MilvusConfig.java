package io.slidestream.sink;

import io.milvus.v2.common.IndexParam;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollections;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Validated, immutable settings of the Milvus sinks and reader, read once from {@link
 * MilvusOptions} ({@link #fromConfiguration}) or built in code ({@link #builder}). Every check
 * fails with {@link ErrorCode#INVALID_CONFIG} and a message that names the key and the bad value.
 */
public final class MilvusConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The largest dimension Milvus accepts for a float vector. */
    public static final int MAX_DIMENSION = 32768;

    /** The largest batch Milvus accepts comfortably in one request (64 MiB gRPC message limit). */
    public static final int MAX_BATCH_SIZE = 10_000;

    private final String uri;
    private final String token;
    private final String database;
    private final String tilesCollection;
    private final String slidesCollection;
    private final IndexParam.IndexType indexType;
    private final IndexParam.MetricType metricType;
    private final Map<String, String> indexParams;
    private final int dimension;
    private final int batchSize;
    private final Duration flushInterval;
    private final Duration rpcTimeout;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration maxRetryWait;

    private MilvusConfig(Builder b) {
        this.uri = b.uri;
        this.token = b.token;
        this.database = b.database;
        this.tilesCollection = b.tilesCollection;
        this.slidesCollection = b.slidesCollection;
        this.indexType = b.indexType;
        this.metricType = b.metricType;
        this.indexParams = Map.copyOf(b.indexParams);
        this.dimension = b.dimension;
        this.batchSize = b.batchSize;
        this.flushInterval = b.flushInterval;
        this.rpcTimeout = b.rpcTimeout;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxRetryWait = b.maxRetryWait;
    }

    /** Reads and validates every {@code milvus.*} key. */
    public static MilvusConfig fromConfiguration(ReadableConfig conf) {
        Builder b = builder().uri(conf.get(MilvusOptions.URI));
        conf.getOptional(MilvusOptions.TOKEN).ifPresent(b::token);
        conf.getOptional(MilvusOptions.DATABASE).ifPresent(b::database);
        return b.tilesCollection(conf.get(MilvusOptions.TILES_COLLECTION))
                .slidesCollection(conf.get(MilvusOptions.SLIDES_COLLECTION))
                .indexType(conf.get(MilvusOptions.INDEX_TYPE))
                .metricType(conf.get(MilvusOptions.METRIC_TYPE))
                .indexParams(conf.get(MilvusOptions.INDEX_PARAMS))
                .dimension(conf.get(MilvusOptions.DIMENSION))
                .batchSize(conf.get(MilvusOptions.BATCH_SIZE))
                .flushInterval(conf.get(MilvusOptions.FLUSH_INTERVAL))
                .rpcTimeout(conf.get(MilvusOptions.RPC_TIMEOUT))
                .initialBackoff(conf.get(MilvusOptions.RETRY_INITIAL_BACKOFF))
                .maxBackoff(conf.get(MilvusOptions.RETRY_MAX_BACKOFF))
                .maxRetryWait(conf.get(MilvusOptions.RETRY_MAX_WAIT))
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public String uri() {
        return uri;
    }

    public Optional<String> token() {
        return Optional.ofNullable(token);
    }

    /** The database, only when configured (Milvus Lite rejects any database in the connect). */
    public Optional<String> database() {
        return Optional.ofNullable(database);
    }

    public String tilesCollection() {
        return tilesCollection;
    }

    public String slidesCollection() {
        return slidesCollection;
    }

    public IndexParam.IndexType indexType() {
        return indexType;
    }

    public IndexParam.MetricType metricType() {
        return metricType;
    }

    public Map<String, String> indexParams() {
        return indexParams;
    }

    /** The configured vector dimension, or 0 to take it from the first record. */
    public int dimension() {
        return dimension;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Zero when only a full buffer or a checkpoint sends. */
    public Duration flushInterval() {
        return flushInterval;
    }

    public Duration rpcTimeout() {
        return rpcTimeout;
    }

    public Duration initialBackoff() {
        return initialBackoff;
    }

    public Duration maxBackoff() {
        return maxBackoff;
    }

    public Duration maxRetryWait() {
        return maxRetryWait;
    }

    /** A copy with another URI (the embedded run learns Milvus Lite's port at start). */
    public MilvusConfig withUri(String newUri) {
        return toBuilder().uri(newUri).build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.uri = uri;
        b.token = token;
        b.database = database;
        b.tilesCollection = tilesCollection;
        b.slidesCollection = slidesCollection;
        b.indexType = indexType;
        b.metricType = metricType;
        b.indexParams = new LinkedHashMap<>(indexParams);
        b.dimension = dimension;
        b.batchSize = batchSize;
        b.flushInterval = flushInterval;
        b.rpcTimeout = rpcTimeout;
        b.initialBackoff = initialBackoff;
        b.maxBackoff = maxBackoff;
        b.maxRetryWait = maxRetryWait;
        return b;
    }

    @Override
    public String toString() {
        // Never print the token.
        return "MilvusConfig{uri="
                + uri
                + ", database="
                + database
                + ", collections="
                + tilesCollection
                + "/"
                + slidesCollection
                + ", index="
                + indexType
                + "/"
                + metricType
                + ", batch="
                + batchSize
                + "}";
    }

    /** Builds a {@link MilvusConfig}; defaults are those of {@link MilvusOptions}. */
    public static final class Builder {
        private String uri = MilvusOptions.URI.defaultValue();
        private String token;
        private String database;
        private String tilesCollection = MilvusCollections.TILES.defaultName();
        private String slidesCollection = MilvusCollections.SLIDES.defaultName();
        private IndexParam.IndexType indexType = IndexParam.IndexType.AUTOINDEX;
        private IndexParam.MetricType metricType = IndexParam.MetricType.COSINE;
        private Map<String, String> indexParams = new LinkedHashMap<>();
        private int dimension = MilvusOptions.DIMENSION.defaultValue();
        private int batchSize = MilvusOptions.BATCH_SIZE.defaultValue();
        private Duration flushInterval = MilvusOptions.FLUSH_INTERVAL.defaultValue();
        private Duration rpcTimeout = MilvusOptions.RPC_TIMEOUT.defaultValue();
        private Duration initialBackoff = MilvusOptions.RETRY_INITIAL_BACKOFF.defaultValue();
        private Duration maxBackoff = MilvusOptions.RETRY_MAX_BACKOFF.defaultValue();
        private Duration maxRetryWait = MilvusOptions.RETRY_MAX_WAIT.defaultValue();

        private Builder() {}

        public Builder uri(String value) {
            this.uri = value;
            return this;
        }

        public Builder token(String value) {
            this.token = blankToNull(value);
            return this;
        }

        public Builder database(String value) {
            this.database = blankToNull(value);
            return this;
        }

        public Builder tilesCollection(String value) {
            this.tilesCollection = value;
            return this;
        }

        public Builder slidesCollection(String value) {
            this.slidesCollection = value;
            return this;
        }

        public Builder indexType(String value) {
            this.indexType =
                    parseEnum(MilvusOptions.INDEX_TYPE.key(), value, IndexParam.IndexType.values());
            return this;
        }

        public Builder metricType(String value) {
            IndexParam.MetricType parsed =
                    parseEnum(
                            MilvusOptions.METRIC_TYPE.key(),
                            value,
                            new IndexParam.MetricType[] {
                                IndexParam.MetricType.COSINE,
                                IndexParam.MetricType.IP,
                                IndexParam.MetricType.L2
                            });
            this.metricType = parsed;
            return this;
        }

        public Builder indexParams(Map<String, String> value) {
            this.indexParams = new LinkedHashMap<>(Objects.requireNonNull(value, "indexParams"));
            return this;
        }

        public Builder dimension(int value) {
            this.dimension = value;
            return this;
        }

        public Builder batchSize(int value) {
            this.batchSize = value;
            return this;
        }

        public Builder flushInterval(Duration value) {
            this.flushInterval = value;
            return this;
        }

        public Builder rpcTimeout(Duration value) {
            this.rpcTimeout = value;
            return this;
        }

        public Builder initialBackoff(Duration value) {
            this.initialBackoff = value;
            return this;
        }

        public Builder maxBackoff(Duration value) {
            this.maxBackoff = value;
            return this;
        }

        public Builder maxRetryWait(Duration value) {
            this.maxRetryWait = value;
            return this;
        }

        /** Validates every value and builds the config. */
        public MilvusConfig build() {
            checkUri(uri);
            checkCollectionName(MilvusOptions.TILES_COLLECTION.key(), tilesCollection);
            checkCollectionName(MilvusOptions.SLIDES_COLLECTION.key(), slidesCollection);
            if (tilesCollection.equals(slidesCollection)) {
                throw InvalidConfig.of(
                        MilvusOptions.SLIDES_COLLECTION.key(),
                        slidesCollection,
                        "must differ from " + MilvusOptions.TILES_COLLECTION.key());
            }
            if (dimension < 0 || dimension > MAX_DIMENSION) {
                throw InvalidConfig.of(
                        MilvusOptions.DIMENSION.key(),
                        dimension,
                        "must be 0 (from the first record) or 1.." + MAX_DIMENSION);
            }
            if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
                throw InvalidConfig.of(
                        MilvusOptions.BATCH_SIZE.key(), batchSize, "must be 1.." + MAX_BATCH_SIZE);
            }
            checkDuration(MilvusOptions.FLUSH_INTERVAL.key(), flushInterval, true);
            checkDuration(MilvusOptions.RPC_TIMEOUT.key(), rpcTimeout, false);
            checkDuration(MilvusOptions.RETRY_INITIAL_BACKOFF.key(), initialBackoff, false);
            checkDuration(MilvusOptions.RETRY_MAX_BACKOFF.key(), maxBackoff, false);
            checkDuration(MilvusOptions.RETRY_MAX_WAIT.key(), maxRetryWait, true);
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw InvalidConfig.of(
                        MilvusOptions.RETRY_MAX_BACKOFF.key(),
                        maxBackoff,
                        "must not be shorter than "
                                + MilvusOptions.RETRY_INITIAL_BACKOFF.key()
                                + " ("
                                + initialBackoff
                                + ")");
            }
            return new MilvusConfig(this);
        }

        private static void checkUri(String value) {
            String key = MilvusOptions.URI.key();
            if (value == null || value.isBlank()) {
                throw InvalidConfig.of(key, value, "is required, e.g. http://127.0.0.1:19530");
            }
            try {
                URI parsed = new URI(value);
                String scheme = parsed.getScheme();
                if (scheme == null
                        || !(scheme.equals("http")
                                || scheme.equals("https")
                                || scheme.equals("tcp"))
                        || parsed.getHost() == null) {
                    throw InvalidConfig.of(
                            key,
                            value,
                            "must be http://host:port or https://host:port (a Milvus server,"
                                    + " not a local .db file: start Milvus Lite and use its"
                                    + " address)");
                }
            } catch (URISyntaxException e) {
                throw InvalidConfig.of(key, value, "is not a URI: " + e.getMessage());
            }
        }

        private static void checkCollectionName(String key, String value) {
            // Milvus collection names: a letter or underscore first, then letters, digits, _.
            if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,254}")) {
                throw InvalidConfig.of(
                        key,
                        value,
                        "must start with a letter or '_' and hold only letters, digits and '_'");
            }
        }

        private static void checkDuration(String key, Duration value, boolean zeroAllowed) {
            if (value == null || value.isNegative() || (!zeroAllowed && value.isZero())) {
                throw InvalidConfig.of(
                        key, value, zeroAllowed ? "must not be negative" : "must be > 0");
            }
        }

        private static <E extends Enum<E>> E parseEnum(String key, String value, E[] allowed) {
            String wanted = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
            for (E candidate : allowed) {
                if (candidate.name().equalsIgnoreCase(wanted)) {
                    return candidate;
                }
            }
            throw InvalidConfig.of(key, value, "must be one of " + Arrays.toString(allowed));
        }

        private static String blankToNull(String value) {
            return value == null || value.isBlank() ? null : value;
        }
    }
}
