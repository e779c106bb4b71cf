package io.slidestream.sink;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.milvus.client.MilvusClient;
import io.milvus.client.MilvusServiceClient;
import io.milvus.exception.ParamException;
import io.milvus.grpc.MutationResult;
import io.milvus.param.ConnectParam;
import io.milvus.param.R;
import io.milvus.param.RetryParam;
import io.milvus.param.dml.InsertParam;
import io.milvus.param.dml.UpsertParam;
import io.milvus.v2.exception.ErrorCode;
import io.milvus.v2.exception.MilvusClientException;
import io.slidestream.schemas.milvus.MilvusCollection;
import io.slidestream.schemas.milvus.MilvusField;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Upserts entities into a Milvus collection column by column, through the SDK's column-based (v1)
 * API, for {@link MilvusUpsertWriter}.
 *
 * <p>Why not the v2 client the rest of the sinks use: its {@code upsert} takes rows only, as JSON,
 * and turns every vector back into a {@code List<Float>} through Gson's tree reader on the calling
 * thread, which made it the largest cost of the Flink task threads per tile (figures in
 * docs/performance.md). Entities are still buffered and checkpointed as JSON rows; this class only
 * sends them, as typed columns.
 *
 * <p><b>Failure</b>: every failure is thrown as the v2 client's {@link MilvusClientException}, so
 * {@link MilvusUpsertWriter#isTransient} judges both clients alike: {@link
 * ErrorCode#INVALID_PARAMS} for a request the SDK rejects (an entity that does not fit the
 * collection), {@link ErrorCode#RPC_ERROR} for anything else (Milvus unreachable, a server error),
 * which the writer retries. The SDK's own retries are limited to one attempt, as for the v2 client:
 * the writer does the backing off. Not thread-safe: one writer uses it.
 */
final class MilvusColumnUpserter implements AutoCloseable {
    private final MilvusClient client;
    private final MilvusConfig config;

    private MilvusColumnUpserter(MilvusClient client, MilvusConfig config) {
        this.client = client;
        this.config = config;
    }

    /** Connects to {@code config}'s Milvus; throws {@link MilvusClientException} if it cannot. */
    static MilvusColumnUpserter connect(MilvusConfig config) {
        long timeoutMs = config.rpcTimeout().toMillis();
        ConnectParam.Builder connect =
                ConnectParam.newBuilder()
                        .withUri(config.uri())
                        .withConnectTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                        .withRpcDeadline(timeoutMs, TimeUnit.MILLISECONDS);
        config.token().ifPresent(connect::withToken);
        // Milvus Lite rejects any database name in the connect request, even "default".
        config.database().ifPresent(connect::withDatabaseName);
        try {
            MilvusClient client =
                    new MilvusServiceClient(connect.build())
                            .withRetry(RetryParam.newBuilder().withMaxRetryTimes(1).build());
            return new MilvusColumnUpserter(client, config);
        } catch (ParamException e) {
            throw new MilvusClientException(ErrorCode.INVALID_PARAMS, e.getMessage());
        } catch (RuntimeException e) {
            throw new MilvusClientException(
                    ErrorCode.RPC_ERROR, "cannot connect to Milvus: " + e.getMessage());
        }
    }

    /** Upserts {@code entities} (rows of {@code definition}) into {@code collection}. */
    void upsert(String collection, MilvusCollection definition, Collection<JsonObject> entities) {
        UpsertParam.Builder upsert =
                UpsertParam.newBuilder()
                        .withCollectionName(collection)
                        .withFields(columns(definition, entities));
        config.database().ifPresent(upsert::withDatabaseName);
        R<MutationResult> result;
        try {
            result = client.upsert(upsert.build());
        } catch (ParamException e) {
            throw new MilvusClientException(ErrorCode.INVALID_PARAMS, e.getMessage());
        }
        if (result.getStatus() != R.Status.Success.getCode()) {
            Exception cause = result.getException();
            throw new MilvusClientException(
                    cause instanceof ParamException
                            ? ErrorCode.INVALID_PARAMS
                            : ErrorCode.RPC_ERROR,
                    cause == null ? result.getMessage() : cause.getMessage());
        }
    }

    /**
     * The entities as one column per field of {@code definition}, each value of the Java type the
     * SDK expects for the field's type (Long, Integer, Float, Double, Boolean, String, or a {@code
     * List<Float>} for vectors and float arrays).
     *
     * @throws MilvusClientException {@link ErrorCode#INVALID_PARAMS} when an entity lacks a field
     *     or holds a value of another shape
     */
    static List<InsertParam.Field> columns(
            MilvusCollection definition, Collection<JsonObject> entities) {
        List<InsertParam.Field> fields = new ArrayList<>(definition.fields().size());
        for (MilvusField field : definition.fields()) {
            List<Object> column = new ArrayList<>(entities.size());
            for (JsonObject entity : entities) {
                column.add(value(field, entity.get(field.name())));
            }
            fields.add(new InsertParam.Field(field.name(), column));
        }
        return fields;
    }

    private static Object value(MilvusField field, JsonElement json) {
        try {
            if (json == null || json.isJsonNull()) {
                throw new IllegalStateException("no value");
            }
            return switch (field.type()) {
                case INT64 -> json.getAsLong();
                case INT32 -> json.getAsInt();
                case FLOAT -> json.getAsFloat();
                case DOUBLE -> json.getAsDouble();
                case BOOL -> json.getAsBoolean();
                case VARCHAR -> json.getAsString();
                case FLOAT_VECTOR, FLOAT_ARRAY -> floats(json.getAsJsonArray());
            };
        } catch (IllegalStateException | UnsupportedOperationException | NumberFormatException e) {
            throw new MilvusClientException(
                    ErrorCode.INVALID_PARAMS,
                    "field '"
                            + field.name()
                            + "' ("
                            + field.type()
                            + ") of an entity: "
                            + (json == null ? "missing" : json + " does not fit"));
        }
    }

    /** The array's values; the Float objects of an entity built in this process are reused. */
    private static List<Float> floats(JsonArray array) {
        List<Float> out = new ArrayList<>(array.size());
        for (JsonElement e : array) {
            Number n = e.getAsNumber();
            out.add(n instanceof Float f ? f : n.floatValue());
        }
        return out;
    }

    @Override
    public void close() {
        try {
            client.close(config.rpcTimeout().toSeconds() + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
