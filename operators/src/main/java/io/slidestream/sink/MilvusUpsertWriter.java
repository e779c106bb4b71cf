package io.slidestream.sink;

import com.google.gson.JsonObject;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.exception.MilvusClientException;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers records as Milvus entities and upserts them in batches into one collection (column by
 * column, {@link MilvusColumnUpserter}); records the converter marks as {@linkplain
 * MilvusEntityConverter#removes removals} delete their key instead (in the same buffer: the later
 * operation on a key wins).
 *
 * <p>Stream behaviour: each record becomes one entity with a deterministic primary key; the buffer
 * is keyed by it (a key seen twice before a send is sent once, last copy wins) and is sent when it
 * holds {@code milvus.batch-size} entities, when {@code milvus.flush-interval} passes (a
 * processing-time timer) and on every {@link #flush} - which Flink calls before each checkpoint
 * barrier. Since upserts and deletes by a deterministic key are idempotent, whatever is sent again
 * after a restore overwrites its earlier copy: the collection holds each record exactly once.
 *
 * <p><b>State</b>: what has not been sent when a checkpoint is taken ({@link MilvusPendingWrites})
 * is part of the checkpoint and is sent first after a restore. So a checkpoint never waits for
 * Milvus: while Milvus is away the checkpoints keep completing (and Iceberg and Kafka keep
 * committing) with the unsent writes in them.
 *
 * <p><b>Failure</b>: a send that fails transiently is not retried on the spot: the writes stay in
 * the buffer and the next attempt is made from a timer after an exponential backoff ({@code
 * milvus.retry.initial-backoff} to {@code max-backoff}), each failure logged with its cause and the
 * client reconnected; the task thread goes on meanwhile. Only when the buffer holds {@value
 * #BUFFERED_BATCHES} batches does the writer hold the task thread (backpressure) and retry until
 * Milvus answers; if that takes longer than {@code milvus.retry.max-wait}, it throws {@link
 * ErrorCode#STORE_UNAVAILABLE} and the job fails over to its last checkpoint, from which the
 * buffered writes are restored. At the end of a bounded input everything is sent the same way. The
 * vectors go to the configured collection while it holds their dimension (or does not exist yet),
 * else to {@code <collection>_d<dimension>} ({@link MilvusCollectionAdmin#collectionFor}): a model
 * of another dimension gets its own collection. Records of two dimensions in one writer fail the
 * job at once ({@link ErrorCode#INVALID_CONFIG}); records without a vector are skipped and logged.
 * The collection is created (from the first record's vector length or {@code milvus.dimension}),
 * indexed and loaded on first use.
 *
 * @param <T> the record type
 */
public final class MilvusUpsertWriter<T> implements StatefulSinkWriter<T, MilvusPendingWrites> {
    private static final Logger LOG = LoggerFactory.getLogger(MilvusUpsertWriter.class);

    /** Batches the buffer holds before the writer stops taking records until Milvus answers. */
    static final int BUFFERED_BATCHES = 40;

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

    /** Sends the upserts (column by column); {@link #client} does the rest. */
    private MilvusColumnUpserter upserter;

    private int collectionDimension;

    /**
     * The collection of this writer's vectors: {@link #collectionName} or, when that holds another
     * dimension, its per-dimension sibling; null until the dimension is known.
     */
    private String target;

    private boolean collectionReady;
    private boolean timerPending;

    /** While Milvus fails: no send before this time (ms), and the backoff that led to it. */
    private long retryNotBefore;

    private long backoffMs;
    private long failingSinceNanos;
    private int failedAttempts;
    private RuntimeException lastError;

    public MilvusUpsertWriter(
            MilvusConfig config,
            String collectionName,
            MilvusEntityConverter<T> converter,
            WriterInitContext context) {
        this(config, collectionName, converter, context, List.of());
    }

    /** A writer that first sends {@code restored}, the unsent writes of the last checkpoint. */
    public MilvusUpsertWriter(
            MilvusConfig config,
            String collectionName,
            MilvusEntityConverter<T> converter,
            WriterInitContext context,
            Collection<MilvusPendingWrites> restored) {
        this.config = config;
        this.collectionName = collectionName;
        this.converter = converter;
        this.definition = converter.collection();
        this.timeService = context.getProcessingTimeService();
        this.upserted = context.metricGroup().getNumRecordsSendCounter();
        this.retries = context.metricGroup().counter("milvusRetries");
        this.skipped = context.metricGroup().counter("milvusSkippedWithoutVector");
        this.deleted = context.metricGroup().counter("milvusDeleted");
        context.metricGroup().gauge("milvusBuffered", () -> buffer.size() + deletes.size());
        this.collectionDimension = config.dimension();
        for (MilvusPendingWrites pending : restored) {
            pending.deletes().forEach(this::bufferDelete);
            pending.upserts().forEach(this::bufferUpsert);
        }
        if (collectionDimension == 0 && !buffer.isEmpty()) {
            collectionDimension =
                    buffer.values()
                            .iterator()
                            .next()
                            .getAsJsonArray(definition.vectorField())
                            .size();
        }
        if (!buffer.isEmpty() || !deletes.isEmpty()) {
            LOG.info(
                    "Restored {} unsent entities and {} deletes for Milvus collection {}",
                    buffer.size(),
                    deletes.size(),
                    collectionName);
            scheduleFlushTimer();
        }
    }

    @Override
    public void write(T record, Context context) throws InterruptedException {
        if (converter.removes(record)) {
            bufferDelete(converter.key(record));
            afterWrite();
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
        bufferUpsert(entity.get(definition.primaryField()).getAsLong(), entity);
        afterWrite();
    }

    private void bufferUpsert(long key, JsonObject entity) {
        deletes.remove(key);
        buffer.put(key, entity);
    }

    private void bufferDelete(long key) {
        buffer.remove(key);
        deletes.add(key);
    }

    private int pending() {
        return buffer.size() + deletes.size();
    }

    private void afterWrite() throws InterruptedException {
        if (pending() >= config.batchSize() * BUFFERED_BATCHES) {
            // Backpressure: hold the task thread until Milvus takes the writes (or fail over).
            sendBlocking("the buffer is full");
        } else if (pending() >= config.batchSize()) {
            trySend();
        } else {
            scheduleFlushTimer();
        }
    }

    /** Before each checkpoint barrier: one attempt; what is not sent goes into the checkpoint. */
    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        if (endOfInput) {
            sendBlocking("the input ended");
        } else {
            trySend();
        }
    }

    @Override
    public List<MilvusPendingWrites> snapshotState(long checkpointId) {
        if (buffer.isEmpty() && deletes.isEmpty()) {
            return List.of();
        }
        return List.of(
                new MilvusPendingWrites(new LinkedHashMap<>(buffer), new ArrayList<>(deletes)));
    }

    @Override
    public void close() {
        if (!buffer.isEmpty() || !deletes.isEmpty()) {
            // The last checkpoint holds what was unsent then; later writes are replayed.
            LOG.info(
                    "Discarding {} unsent entities and {} deletes for {} on close; they are"
                            + " restored or replayed from the last checkpoint",
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
        long now = timeService.getCurrentProcessingTime();
        timeService.registerTimer(
                Math.max(now + interval.toMillis(), retryNotBefore),
                time -> {
                    timerPending = false;
                    trySend();
                });
    }

    /** One attempt unless backing off; on a transient failure the writes wait for a timer. */
    private void trySend() {
        if (pending() == 0) {
            return;
        }
        if (timeService.getCurrentProcessingTime() < retryNotBefore || !attempt()) {
            scheduleFlushTimer();
        }
    }

    /** Sends everything, retrying with backoff on the task thread for up to max-wait. */
    private void sendBlocking(String why) throws InterruptedException {
        while (pending() > 0) {
            long waitMs = retryNotBefore - timeService.getCurrentProcessingTime();
            if (waitMs > 0) {
                Thread.sleep(waitMs);
            }
            if (!attempt()
                    && System.nanoTime() - failingSinceNanos > config.maxRetryWait().toNanos()) {
                throw new SlideStreamException(
                        ErrorCode.STORE_UNAVAILABLE,
                        "Milvus at "
                                + config.uri()
                                + " did not accept "
                                + pending()
                                + " writes into '"
                                + collectionName
                                + "' ("
                                + why
                                + ") within "
                                + config.maxRetryWait()
                                + " ("
                                + failedAttempts
                                + " attempts; last error: "
                                + lastError.getMessage()
                                + "). Check that Milvus is running and reachable, or raise"
                                + " milvus.retry.max-wait; the job restarts from its last"
                                + " checkpoint.",
                        lastError);
            }
        }
    }

    /**
     * Sends what is pending; false after a transient failure (recorded, with the next attempt's
     * earliest time), an exception for a request Milvus rejects.
     */
    private boolean attempt() {
        try {
            sendAll();
            return true;
        } catch (RuntimeException e) {
            if (!isTransient(e)) {
                throw rejected(e);
            }
            failed(e);
            return false;
        }
    }

    /** Sends the deletes and then the upserts; throws what the client throws. */
    private void sendAll() {
        ensureReady();
        if (!deletes.isEmpty()) {
            // A key is in at most one of the two (the later operation on it wins), so their
            // order does not matter. With nothing written yet the collection may not exist: then
            // there is nothing to delete.
            // Before the first vector the writer does not know its dimension's collection: the
            // keys hold the model id, so deleting them from every collection of the family
            // touches nothing of another model.
            List<String> into =
                    collectionReady
                            ? List.of(target)
                            : MilvusCollectionAdmin.family(client, collectionName);
            for (String name : into) {
                client.delete(
                        DeleteReq.builder()
                                .collectionName(name)
                                .ids(new ArrayList<>(deletes))
                                .build());
            }
            deleted.inc(deletes.size());
            deletes.clear();
        }
        if (!buffer.isEmpty()) {
            if (!collectionReady) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_CONFIG,
                        "Milvus collection '"
                                + collectionName
                                + "' does not exist and its vector length is unknown: set"
                                + " milvus.dimension");
            }
            upserter.upsert(target, definition, buffer.values());
            upserted.inc(buffer.size());
            buffer.clear();
        }
        if (failedAttempts > 0) {
            LOG.info(
                    "Milvus at {} takes writes into {} again after {} failed attempts ({} ms)",
                    config.uri(),
                    collectionName,
                    failedAttempts,
                    (System.nanoTime() - failingSinceNanos) / 1_000_000);
        }
        failedAttempts = 0;
        backoffMs = 0;
        retryNotBefore = 0;
    }

    /** A connected client and, once the vector length is known, a ready collection. */
    private void ensureReady() {
        if (client == null) {
            client = MilvusCollectionAdmin.connect(config);
        }
        if (upserter == null) {
            upserter = MilvusColumnUpserter.connect(config);
        }
        if (!collectionReady && collectionDimension != 0) {
            if (target == null) {
                target =
                        MilvusCollectionAdmin.collectionFor(
                                client, collectionName, definition, collectionDimension);
            }
            MilvusCollectionAdmin.ensureCollection(
                    client, config, target, definition, collectionDimension);
            collectionReady = true;
        }
    }

    /** Records a transient failure: backoff, reconnect on the next attempt. */
    private void failed(RuntimeException e) {
        if (failedAttempts == 0) {
            failingSinceNanos = System.nanoTime();
        }
        failedAttempts++;
        lastError = e;
        retries.inc();
        backoffMs =
                backoffMs == 0
                        ? config.initialBackoff().toMillis()
                        : Math.min(backoffMs * 2, config.maxBackoff().toMillis());
        retryNotBefore = timeService.getCurrentProcessingTime() + backoffMs;
        LOG.warn(
                "Milvus write into {} at {} failed (attempt {}), {} writes buffered, next attempt"
                        + " in {} ms: {}",
                collectionName,
                config.uri(),
                failedAttempts,
                pending(),
                backoffMs,
                e.toString());
        // A fresh client reconnects at once instead of waiting out gRPC's own reconnect backoff
        // (up to two minutes), and the collection is re-checked: a restarted server may have
        // lost or unloaded it.
        closeClient();
        collectionReady = false;
    }

    private SlideStreamException rejected(RuntimeException e) {
        if (e instanceof SlideStreamException s) {
            return s;
        }
        return new SlideStreamException(
                ErrorCode.INTERNAL,
                "Milvus rejected a write into collection '"
                        + collectionName
                        + "' at "
                        + config.uri()
                        + ": "
                        + e.getMessage(),
                e);
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
            closeQuietly(client::close, "client");
            client = null;
        }
        if (upserter != null) {
            closeQuietly(upserter::close, "upsert client");
            upserter = null;
        }
    }

    private static void closeQuietly(Runnable close, String what) {
        try {
            close.run();
        } catch (RuntimeException e) {
            LOG.debug("Closing the Milvus {} failed", what, e);
        }
    }
}
