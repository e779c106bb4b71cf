package io.slidestream.sink;

import com.google.gson.JsonObject;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.exception.MilvusClientException;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.milvus.v2.service.vector.request.UpsertReq;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers records as Milvus entities and upserts them in batches into one collection; records the
 * converter marks as {@linkplain MilvusEntityConverter#removes removals} delete their key instead
 * (in the same buffer: the later operation on a key wins).
 *
 * <p>Stream behaviour: each record becomes one entity with a deterministic primary key; the buffer
 * is keyed by it (a key seen twice before a send is sent once, last copy wins) and is sent when it
 * holds {@code milvus.batch-size} entities, when {@code milvus.flush-interval} passes (a
 * processing-time timer) and on every {@link #flush} - which Flink calls before each checkpoint
 * barrier and at the end of input. So a checkpoint completes only after its records are in Milvus,
 * and since upserts by a deterministic key are idempotent, the records replayed after a restore
 * overwrite their earlier copies: the collection holds each record exactly once.
 *
 * <p>State: none in Flink state - the buffer is always empty when a checkpoint is taken. The
 * collection is created (from the first record's vector length or {@code milvus.dimension}),
 * indexed and loaded on first use.
 *
 * <p>Failure: while Milvus is unreachable or failing, each send is retried with exponential backoff
 * ({@code milvus.retry.*}), each retry logged with its cause, the client reconnected; the task
 * thread waits meanwhile, so the job backpressures and nothing is dropped. After {@code
 * milvus.retry.max-wait} the writer throws {@link ErrorCode#STORE_UNAVAILABLE} and the job fails
 * over to its last checkpoint. Records whose vector length differs from the collection's fail the
 * job at once ({@link ErrorCode#INVALID_CONFIG}); records without a vector are skipped and logged.
 *
 * @param <T> the record type
 */
public final class MilvusUpsertWriter<T> implements SinkWriter<T> {
    private static final Logger LOG = LoggerFactory.getLogger(MilvusUpsertWriter.class);

    private final MilvusConfig config;
    private final String collectionName;
    private final MilvusEntityConverter<T> converter;
    private final MilvusCollection definition;
    private final ProcessingTimeService timeService;
    private final Counter upserted;
    private final Counter retries;
    private final Counter skipped;
    private final Counter deleted;

    /** Pending entities by primary key, in arrival order. */
    private final LinkedHashMap<Long, JsonObject> buffer = new LinkedHashMap<>();

    /** Pending deletes (keys not in {@link #buffer}). */
    private final LinkedHashSet<Long> deletes = new LinkedHashSet<>();

    private MilvusClientV2 client;
    private int collectionDimension;
    private boolean collectionReady;
    private boolean timerPending;

    public MilvusUpsertWriter(
            MilvusConfig config,
            String collectionName,
            MilvusEntityConverter<T> converter,
            WriterInitContext context) {
        this.config = config;
        this.collectionName = collectionName;
        this.converter = converter;
        this.definition = converter.collection();
        this.timeService = context.getProcessingTimeService();
        this.upserted = context.metricGroup().getNumRecordsSendCounter();
        this.retries = context.metricGroup().counter("milvusRetries");
        this.skipped = context.metricGroup().counter("milvusSkippedWithoutVector");
        this.deleted = context.metricGroup().counter("milvusDeleted");
        this.collectionDimension = config.dimension();
    }

    @Override
    public void write(T record, Context context) throws InterruptedException {
        if (converter.removes(record)) {
            long key = converter.key(record);
            buffer.remove(key);
            deletes.add(key);
            sendIfFull();
            return;
        }
        int dimension = converter.dimension(record);
        if (dimension == 0) {
            skipped.inc();
            LOG.warn(
                    "Not writing {} to Milvus collection {}: it has no vector",
                    converter.describe(record),
                    collectionName);
            return;
        }
        if (collectionDimension == 0) {
            collectionDimension = dimension;
        } else if (dimension != collectionDimension) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_CONFIG,
                    converter.describe(record)
                            + " has a "
                            + dimension
                            + "-dimensional vector but Milvus collection '"
                            + collectionName
                            + "' is for "
                            + collectionDimension
                            + "-dimensional vectors. Use one collection per model (milvus."
                            + definition.defaultName()
                            + "-collection) or set milvus.dimension to the model's output.");
        }
        JsonObject entity = converter.toEntity(record);
        long key = entity.get(definition.primaryField()).getAsLong();
        deletes.remove(key);
        buffer.put(key, entity);
        sendIfFull();
    }

    private void sendIfFull() throws InterruptedException {
        if (buffer.size() + deletes.size() >= config.batchSize()) {
            sendBuffer();
        } else {
            scheduleFlushTimer();
        }
    }

    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        sendBuffer();
    }

    @Override
    public void close() {
        if (!buffer.isEmpty() || !deletes.isEmpty()) {
            // Only reached when the task fails or is cancelled: the records are replayed from the
            // last checkpoint, so dropping them here loses nothing.
            LOG.info(
                    "Discarding {} unsent entities and {} deletes for {} on close; they are"
                            + " replayed from the last checkpoint",
                    buffer.size(),
                    deletes.size(),
                    collectionName);
            buffer.clear();
            deletes.clear();
        }
        closeClient();
    }

    private void scheduleFlushTimer() {
        Duration interval = config.flushInterval();
        if (timerPending || interval.isZero()) {
            return;
        }
        timerPending = true;
        timeService.registerTimer(
                timeService.getCurrentProcessingTime() + interval.toMillis(),
                time -> {
                    timerPending = false;
                    sendBuffer();
                });
    }

    private void sendBuffer() throws InterruptedException {
        // A key is in at most one of the two (the later operation on it wins), so their order
        // does not matter.
        sendDeletes();
        if (buffer.isEmpty()) {
            return;
        }
        UpsertReq request =
                UpsertReq.builder()
                        .collectionName(collectionName)
                        .data(new ArrayList<>(buffer.values()))
                        .build();
        int count = buffer.size();
        withRetry("upsert of " + count + " entities", () -> client.upsert(request));
        upserted.inc(count);
        buffer.clear();
    }

    private void sendDeletes() throws InterruptedException {
        if (deletes.isEmpty()) {
            return;
        }
        DeleteReq request =
                DeleteReq.builder()
                        .collectionName(collectionName)
                        .ids(new ArrayList<>(deletes))
                        .build();
        int count = deletes.size();
        // With nothing written yet the collection may not exist: then there is nothing to delete.
        withRetry(
                "delete of " + count + " entities",
                () -> collectionDimension == 0 ? null : client.delete(request));
        deleted.inc(count);
        deletes.clear();
    }

    /** Runs {@code call} with a ready client and collection, retrying transient failures. */
    private <R> R withRetry(String action, Supplier<R> call) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + config.maxRetryWait().toNanos();
        long backoffMs = config.initialBackoff().toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                if (client == null) {
                    client = MilvusCollectionAdmin.connect(config);
                }
                if (!collectionReady) {
                    collectionDimension =
                            MilvusCollectionAdmin.ensureCollection(
                                    client,
                                    config,
                                    collectionName,
                                    definition,
                                    collectionDimension);
                    // 0: nothing written yet and no collection; created with the first upsert.
                    collectionReady = collectionDimension != 0;
                }
                R result = call.get();
                if (attempt > 1) {
                    LOG.info(
                            "Milvus {} into {} succeeded after {} attempts ({} ms)",
                            action,
                            collectionName,
                            attempt,
                            (System.nanoTime() - start) / 1_000_000);
                }
                return result;
            } catch (SlideStreamException e) {
                throw e;
            } catch (RuntimeException e) {
                if (!isTransient(e)) {
                    throw new SlideStreamException(
                            ErrorCode.INTERNAL,
                            "Milvus rejected the "
                                    + action
                                    + " into collection '"
                                    + collectionName
                                    + "' at "
                                    + config.uri()
                                    + ": "
                                    + e.getMessage(),
                            e);
                }
                long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMs <= 0) {
                    throw new SlideStreamException(
                            ErrorCode.STORE_UNAVAILABLE,
                            "Milvus at "
                                    + config.uri()
                                    + " did not accept the "
                                    + action
                                    + " into '"
                                    + collectionName
                                    + "' within "
                                    + config.maxRetryWait()
                                    + " ("
                                    + attempt
                                    + " attempts; last error: "
                                    + e.getMessage()
                                    + "). Check that Milvus is running and reachable, or raise"
                                    + " milvus.retry.max-wait; the job restarts from its last"
                                    + " checkpoint.",
                            e);
                }
                long sleepMs = Math.min(backoffMs, remainingMs);
                retries.inc();
                LOG.warn(
                        "Milvus {} into {} at {} failed (attempt {}), retrying in {} ms: {}",
                        action,
                        collectionName,
                        config.uri(),
                        attempt,
                        sleepMs,
                        e.toString());
                // A fresh client reconnects at once instead of waiting out gRPC's own reconnect
                // backoff (up to two minutes), and the collection is re-checked: a restarted
                // server may have lost or unloaded it.
                closeClient();
                collectionReady = false;
                Thread.sleep(sleepMs);
                backoffMs = Math.min(backoffMs * 2, config.maxBackoff().toMillis());
            }
        }
    }

    /** Whether retrying may help: anything but a request Milvus rejected as invalid. */
    static boolean isTransient(RuntimeException e) {
        if (e instanceof MilvusClientException) {
            return ((MilvusClientException) e).getErrorCode()
                    != io.milvus.v2.exception.ErrorCode.INVALID_PARAMS;
        }
        // gRPC failures of the (shaded) channel surface as StatusRuntimeException.
        return e.getClass().getSimpleName().equals("StatusRuntimeException");
    }

    private void closeClient() {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("Closing the Milvus client failed", e);
            }
            client = null;
        }
    }

    /** Entities waiting to be sent (for tests). */
    int buffered() {
        return buffer.size();
    }

    /** Keys waiting to be sent, in order (for tests). */
    Map<Long, JsonObject> pending() {
        return java.util.Collections.unmodifiableMap(buffer);
    }
}
