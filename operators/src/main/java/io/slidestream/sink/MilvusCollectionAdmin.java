package io.slidestream.sink;

import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.client.RetryConfig;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
import io.milvus.v2.exception.MilvusClientException;
import io.milvus.v2.service.collection.request.AddFieldReq;
import io.milvus.v2.service.collection.request.CreateCollectionReq;
import io.milvus.v2.service.collection.request.DescribeCollectionReq;
import io.milvus.v2.service.collection.request.GetLoadStateReq;
import io.milvus.v2.service.collection.request.HasCollectionReq;
import io.milvus.v2.service.collection.request.LoadCollectionReq;
import io.milvus.v2.service.collection.response.DescribeCollectionResp;
import io.milvus.v2.service.index.request.CreateIndexReq;
import io.milvus.v2.service.index.request.ListIndexesReq;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollection;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusField;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects to Milvus and makes a SlideStream collection ready for upserts and searches: created
 * from its {@link MilvusCollection} definition with the configured index and metric when missing,
 * checked against the definition and the expected vector dimension when present, indexed and
 * loaded. Safe to call from several sink subtasks at once: a lost creation race is detected and the
 * winner's collection is used.
 */
public final class MilvusCollectionAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(MilvusCollectionAdmin.class);

    private MilvusCollectionAdmin() {}

    /**
     * A client for {@code config}. It connects at once (throws when Milvus is away) and does not
     * retry by itself: the callers retry with their own, logged backoff.
     */
    public static MilvusClientV2 connect(MilvusConfig config) {
        ConnectConfig.ConnectConfigBuilder connect =
                ConnectConfig.builder()
                        .uri(config.uri())
                        .connectTimeoutMs(config.rpcTimeout().toMillis())
                        .rpcDeadlineMs(config.rpcTimeout().toMillis());
        config.token().ifPresent(connect::token);
        config.tlsTrustCert()
                .ifPresent(
                        cert ->
                                connect.secure(true)
                                        .serverPemPath(cert)
                                        .serverName(URI.create(config.uri()).getHost()));
        // Milvus Lite rejects any dbName in the connect request, even "default".
        config.database().ifPresent(connect::dbName);
        MilvusClientV2 client = new MilvusClientV2(connect.build());
        client.retryConfig(RetryConfig.builder().maxRetryTimes(1).build());
        return client;
    }

    /**
     * Makes {@code name} ready and returns its vector dimension.
     *
     * @param dimension the dimension to create the collection with, and that an existing one must
     *     have; 0 when it is not known yet (a writer that has only deletes to send): an existing
     *     collection is then taken as it is, and a missing one is not created (0 is returned)
     * @throws SlideStreamException {@link ErrorCode#INVALID_CONFIG} when an existing collection has
     *     other fields or another dimension
     */
    public static int ensureCollection(
            MilvusClientV2 client,
            MilvusConfig config,
            String name,
            MilvusCollection definition,
            int dimension) {
        if (dimension == 0 && !hasCollection(client, name)) {
            return 0;
        }
        if (!hasCollection(client, name)) {
            try {
                client.createCollection(
                        CreateCollectionReq.builder()
                                .collectionName(name)
                                .description(definition.description())
                                .collectionSchema(schema(definition, dimension))
                                .indexParams(List.of(vectorIndex(config, definition)))
                                .build());
                LOG.info(
                        "Created Milvus collection {} (D={}, index {}, metric {}) at {}",
                        name,
                        dimension,
                        config.indexType(),
                        config.metricType(),
                        config.uri());
            } catch (MilvusClientException e) {
                // Another subtask may have created it between the check and the create.
                if (!hasCollection(client, name)) {
                    throw e;
                }
            }
        }
        DescribeCollectionResp described =
                client.describeCollection(
                        DescribeCollectionReq.builder().collectionName(name).build());
        checkFields(name, definition, described);
        int existing =
                described.getCollectionSchema().getField(definition.vectorField()).getDimension();
        if (dimension != 0 && existing != dimension) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_CONFIG,
                    "Milvus collection '"
                            + name
                            + "' holds "
                            + existing
                            + "-dimensional vectors but the records have "
                            + dimension
                            + ". Vectors of different models cannot share a collection: set"
                            + " another collection name (milvus.tiles-collection /"
                            + " milvus.slides-collection) or drop the old collection.");
        }
        if (client.listIndexes(ListIndexesReq.builder().collectionName(name).build()).isEmpty()) {
            client.createIndex(
                    CreateIndexReq.builder()
                            .collectionName(name)
                            .indexParams(List.of(vectorIndex(config, definition)))
                            .build());
        }
        if (!Boolean.TRUE.equals(
                client.getLoadState(GetLoadStateReq.builder().collectionName(name).build()))) {
            client.loadCollection(LoadCollectionReq.builder().collectionName(name).build());
        }
        return existing;
    }

    /** The dimension of an existing collection, or 0 when it does not exist. */
    public static int existingDimension(
            MilvusClientV2 client, String name, MilvusCollection definition) {
        if (!hasCollection(client, name)) {
            return 0;
        }
        return client.describeCollection(
                        DescribeCollectionReq.builder().collectionName(name).build())
                .getCollectionSchema()
                .getField(definition.vectorField())
                .getDimension();
    }

    /**
     * The collection for vectors of length {@code dimension} in the family {@code base}: {@code
     * base} itself while it does not exist or holds that dimension, else {@code base_d<dimension>}
     * ({@link #dimensionCollection}). Models of one dimension share a collection - every entity
     * carries its {@code model_id} and its key is derived from it - and a model of another
     * dimension never mixes in.
     */
    public static String collectionFor(
            MilvusClientV2 client, String base, MilvusCollection definition, int dimension) {
        int existing = existingDimension(client, base, definition);
        return existing == 0 || existing == dimension ? base : dimensionCollection(base, dimension);
    }

    /** The name of the collection for {@code dimension}-long vectors beside {@code base}. */
    public static String dimensionCollection(String base, int dimension) {
        return base + "_d" + dimension;
    }

    /** {@code base} and its per-dimension collections, those that exist, base first. */
    public static List<String> family(MilvusClientV2 client, String base) {
        java.util.regex.Pattern member =
                java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(base) + "_d[0-9]+");
        List<String> names = new java.util.ArrayList<>();
        for (String name : client.listCollections().getCollectionNames()) {
            if (name.equals(base)) {
                names.add(0, name);
            } else if (member.matcher(name).matches()) {
                names.add(name);
            }
        }
        return names;
    }

    public static boolean hasCollection(MilvusClientV2 client, String name) {
        return Boolean.TRUE.equals(
                client.hasCollection(HasCollectionReq.builder().collectionName(name).build()));
    }

    /** The SDK schema of {@code definition} with vectors of length {@code dimension}. */
    static CreateCollectionReq.CollectionSchema schema(MilvusCollection definition, int dimension) {
        CreateCollectionReq.CollectionSchema schema = MilvusClientV2.CreateSchema();
        schema.setEnableDynamicField(false);
        for (MilvusField field : definition.fields()) {
            AddFieldReq.AddFieldReqBuilder<?> f =
                    AddFieldReq.builder().fieldName(field.name()).description(field.description());
            switch (field.type()) {
                case INT64 -> f.dataType(DataType.Int64);
                case INT32 -> f.dataType(DataType.Int32);
                case FLOAT -> f.dataType(DataType.Float);
                case DOUBLE -> f.dataType(DataType.Double);
                case BOOL -> f.dataType(DataType.Bool);
                case VARCHAR -> f.dataType(DataType.VarChar).maxLength(field.maxLength());
                case FLOAT_VECTOR -> f.dataType(DataType.FloatVector).dimension(dimension);
                case FLOAT_ARRAY ->
                        f.dataType(DataType.Array)
                                .elementType(DataType.Float)
                                .maxCapacity(field.maxCapacity());
            }
            if (field.primaryKey()) {
                f.isPrimaryKey(true).autoID(false);
            }
            schema.addField(f.build());
        }
        return schema;
    }

    static IndexParam vectorIndex(MilvusConfig config, MilvusCollection definition) {
        Map<String, Object> params = new LinkedHashMap<>();
        config.indexParams().forEach((k, v) -> params.put(k, numberOrString(v)));
        return IndexParam.builder()
                .fieldName(definition.vectorField())
                .indexName(definition.vectorField() + "_index")
                .indexType(config.indexType())
                .metricType(config.metricType())
                .extraParams(params)
                .build();
    }

    static Object numberOrString(String value) {
        // Index parameters such as nlist or M are integers on the server side.
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException notInt) {
            return value;
        }
    }

    private static void checkFields(
            String name, MilvusCollection definition, DescribeCollectionResp described) {
        Set<String> actual = new TreeSet<>(described.getFieldNames());
        Set<String> expected = new TreeSet<>(definition.fieldNames());
        if (!actual.equals(expected)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_CONFIG,
                    "Milvus collection '"
                            + name
                            + "' exists with fields "
                            + actual
                            + " but SlideStream writes "
                            + expected
                            + (actual.contains("id")
                                    ? " (it was created by SlideStream before schema version "
                                            + MilvusCollections.SCHEMA_VERSION
                                            + ", whose key was 'id')"
                                    : "")
                            + ". Use another collection name (the defaults are "
                            + MilvusCollections.TILES.defaultName()
                            + " and "
                            + MilvusCollections.SLIDES.defaultName()
                            + "); docs/stores.md says how to move.");
        }
    }
}
