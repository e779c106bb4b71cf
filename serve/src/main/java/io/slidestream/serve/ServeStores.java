package io.slidestream.serve;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.CurrentModel;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.slide.SlideHandleCache;
import io.slidestream.slide.SlideOpener;
import java.util.Optional;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the service reads, from the job's own configuration: the Milvus collections, the Iceberg
 * catalog and tables, the job's model (to embed uploaded images exactly as the job embeds tiles),
 * and slides under the allowed roots. Milvus and the catalog are connected on first use and again
 * after a failure, so the service starts (and its dashboard loads) while a store is away; a request
 * that needs the missing store is answered 503 {@code STORE_UNAVAILABLE}.
 */
final class ServeStores implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServeStores.class);

    private final ServeConfig config;
    private final SingleTileEmbedder embedder;
    private final SlideOpener opener;
    private final SlideHandleCache slides;
    private MilvusStoreReader milvus;
    private Catalog catalog;

    ServeStores(ServeConfig config) {
        this.config = config;
        this.embedder = SingleTileEmbedder.open(config.inference().modelPath());
        this.opener = SlideOpener.forRoots(config.allowedRoots(), config.slideReader());
        this.slides = new SlideHandleCache(opener, 16);
    }

    ServeConfig config() {
        return config;
    }

    /** The job's model; embedding is serialised (a batch of one at a time). */
    synchronized float[] embed(java.awt.image.BufferedImage image) {
        return embedder.embed(image);
    }

    String modelId() {
        return embedder.modelId();
    }

    /**
     * The model searches use when none is named: the {@linkplain CurrentModel current} model, read
     * afresh (a promotion takes effect with the next request), else this service's own.
     */
    String currentModelId() {
        return Optional.ofNullable(
                        table(config.iceberg().slidesTable())
                                .properties()
                                .get(CurrentModel.PROPERTY))
                .orElseGet(this::modelId);
    }

    SlideOpener opener() {
        return opener;
    }

    SlideHandleCache slides() {
        return slides;
    }

    synchronized MilvusStoreReader milvus() {
        if (milvus == null) {
            try {
                milvus = MilvusStoreReader.open(servingMilvus(config.milvus()));
            } catch (RuntimeException e) {
                throw unavailable("Milvus at " + config.milvus().uri(), e);
            }
        }
        return milvus;
    }

    /** Forgets the Milvus connection after a failure, so the next request connects again. */
    synchronized void milvusFailed() {
        if (milvus != null) {
            try {
                milvus.close();
            } catch (RuntimeException ignored) {
                // Already broken.
            }
            milvus = null;
        }
    }

    /** Table {@code name} of the configured namespace, loaded afresh (current snapshot). */
    Table table(String name) {
        Catalog c;
        synchronized (this) {
            if (catalog == null) {
                try {
                    catalog = IcebergCatalogs.open(config.iceberg());
                } catch (RuntimeException e) {
                    throw unavailable("the Iceberg catalog", e);
                }
            }
            c = catalog;
        }
        try {
            return c.loadTable(TableIdentifier.of(config.iceberg().namespace(), name));
        } catch (org.apache.iceberg.exceptions.NoSuchTableException e) {
            throw new ApiError(
                    404,
                    "NO_TABLE",
                    "Iceberg table "
                            + config.iceberg().namespace()
                            + "."
                            + name
                            + " does not exist yet: the job creates it when it starts");
        } catch (RuntimeException e) {
            throw unavailable("the Iceberg catalog", e);
        }
    }

    /**
     * A 503 for a store that did not answer: the log gets the whole cause, the answer only its
     * status ({@code DEADLINE_EXCEEDED}, {@code UNAVAILABLE}, ...), neither a password of a URI.
     */
    static ApiError unavailable(String what, RuntimeException e) {
        String cause = e instanceof SlideStreamException s ? s.getMessage() : e.toString();
        ErrorCode code = ErrorCode.STORE_UNAVAILABLE;
        LOG.warn("503 {}: {}", code, redacted(what + " does not answer: " + cause));
        return new ApiError(
                code.httpStatus(),
                code.name(),
                redacted(
                        what
                                + " does not answer ("
                                + status(e)
                                + "); try again shortly, the service log has the details"));
    }

    private static final java.util.regex.Pattern STATUS =
            java.util.regex.Pattern.compile("^([A-Z][A-Z_]{3,})(:|$)");

    /**
     * A gRPC-style status at the start of the message ("DEADLINE_EXCEEDED: ..."), else the type.
     */
    static String status(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            java.util.regex.Matcher m =
                    STATUS.matcher(t.getMessage() == null ? "" : t.getMessage());
            if (m.find()) {
                return m.group(1);
            }
        }
        return e.getClass().getSimpleName();
    }

    /** Longest a request waits for Milvus: a user waits on the answer. */
    static final java.time.Duration MILVUS_DEADLINE = java.time.Duration.ofSeconds(5);

    /** The job's Milvus settings with a deadline a waiting user can bear. */
    private static MilvusConfig servingMilvus(MilvusConfig job) {
        if (job.rpcTimeout().compareTo(MILVUS_DEADLINE) <= 0) {
            return job;
        }
        return job.toBuilder().set(MilvusOptions.RPC_TIMEOUT, MILVUS_DEADLINE).build();
    }

    /** {@code text} with the user information of any URI in it (user:password@) masked. */
    static String redacted(String text) {
        return text == null ? null : text.replaceAll("(?<=://)[^/@\\s]+@", "***@");
    }

    @Override
    public synchronized void close() {
        embedder.close();
        slides.close();
        if (milvus != null) {
            milvus.close();
        }
        if (catalog != null) {
            IcebergCatalogs.close(catalog);
        }
    }
}
