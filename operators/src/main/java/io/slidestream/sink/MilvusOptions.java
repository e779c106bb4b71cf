package io.slidestream.sink;

import io.slidestream.schemas.milvus.MilvusCollections;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Configuration keys of the Milvus sinks ({@code milvus.*}). Read once into a {@link MilvusConfig},
 * which validates them.
 */
public final class MilvusOptions {

    public static final ConfigOption<String> URI =
            ConfigOptions.key("milvus.uri")
                    .stringType()
                    .defaultValue("http://127.0.0.1:19530")
                    .withDescription(
                            "Milvus endpoint, e.g. http://milvus:19530 (standalone/cluster) or the"
                                    + " loopback address of Milvus Lite.");

    public static final ConfigOption<String> TLS_TRUST_CERT =
            ConfigOptions.key("milvus.tls.trust-cert")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For an https:// milvus.uri: a PEM file of the certificate authority"
                                    + " (or the server certificate) that Milvus's TLS certificate"
                                    + " must chain to, e.g. the hospital's private CA. Unset: the"
                                    + " JVM's default trust.");

    public static final ConfigOption<String> TOKEN =
            ConfigOptions.key("milvus.token")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Authentication token ('user:password' or an API key); unset for no"
                                    + " authentication.");

    public static final ConfigOption<String> DATABASE =
            ConfigOptions.key("milvus.database")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Milvus database; unset for the server's default. Milvus Lite does not"
                                    + " support databases: leave it unset there.");

    public static final ConfigOption<String> TILES_COLLECTION =
            ConfigOptions.key("milvus.tiles-collection")
                    .stringType()
                    .defaultValue(MilvusCollections.TILES.defaultName())
                    .withDescription(
                            "Collection of tile embeddings. Use one collection per model: the"
                                    + " vector dimension is fixed when it is created. The"
                                    + " default name carries the fields' schema version (see"
                                    + " docs/stores.md).");

    public static final ConfigOption<String> SLIDES_COLLECTION =
            ConfigOptions.key("milvus.slides-collection")
                    .stringType()
                    .defaultValue(MilvusCollections.SLIDES.defaultName())
                    .withDescription("Collection of slide embeddings and predictions.");

    public static final ConfigOption<String> INDEX_TYPE =
            ConfigOptions.key("milvus.index-type")
                    .stringType()
                    .defaultValue("AUTOINDEX")
                    .withDescription(
                            "Vector index created with a new collection: AUTOINDEX, FLAT, IVF_FLAT,"
                                    + " IVF_SQ8, HNSW, DISKANN ... Milvus Lite supports AUTOINDEX,"
                                    + " FLAT and IVF_FLAT only.");

    public static final ConfigOption<String> METRIC_TYPE =
            ConfigOptions.key("milvus.metric-type")
                    .stringType()
                    .defaultValue("COSINE")
                    .withDescription("Vector similarity metric: COSINE, IP or L2.");

    public static final ConfigOption<Map<String, String>> INDEX_PARAMS =
            ConfigOptions.key("milvus.index-params")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Extra index build parameters, e.g. 'nlist:128' for IVF_FLAT or"
                                    + " 'M:16,efConstruction:200' for HNSW.");

    public static final ConfigOption<Map<String, String>> SEARCH_PARAMS =
            ConfigOptions.key("milvus.search-params")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Search parameters of the index, e.g. 'nprobe:16' for IVF_FLAT or"
                                    + " 'ef:64' for HNSW (more: better recall, slower searches;"
                                    + " docs/performance.md has measured pairs).");

    public static final ConfigOption<Integer> DIMENSION =
            ConfigOptions.key("milvus.dimension")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Vector dimension D of a collection the sink creates; 0 takes it from"
                                    + " the first record. Records of another dimension fail the"
                                    + " job.");

    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("milvus.batch-size")
                    .intType()
                    .defaultValue(256)
                    .withDescription(
                            "Entities per upsert request; the buffer is sent when full, when the"
                                    + " flush interval passes and at every checkpoint.");

    public static final ConfigOption<Duration> FLUSH_INTERVAL =
            ConfigOptions.key("milvus.flush-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "Longest time a buffered entity waits before it is sent; 0 sends"
                                    + " only when the buffer is full or at a checkpoint.");

    public static final ConfigOption<Duration> RPC_TIMEOUT =
            ConfigOptions.key("milvus.rpc-timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription("Deadline of one Milvus request.");

    public static final ConfigOption<Duration> RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("milvus.retry.initial-backoff")
                    .durationType()
                    .defaultValue(Duration.ofMillis(200))
                    .withDescription("Wait before the first retry of a failed request.");

    public static final ConfigOption<Duration> RETRY_MAX_BACKOFF =
            ConfigOptions.key("milvus.retry.max-backoff")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription("Longest wait between retries (the wait doubles each time).");

    public static final ConfigOption<Duration> RETRY_MAX_WAIT =
            ConfigOptions.key("milvus.retry.max-wait")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(5))
                    .withDescription(
                            "How long a request is retried while Milvus is away (the sink"
                                    + " backpressures meanwhile) before the job fails over and"
                                    + " restarts from its last checkpoint.");

    private MilvusOptions() {}
}
