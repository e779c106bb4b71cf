package io.slidestream.heads;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The feature bags the {@code tiles} table holds: which slides have embeddings of which model
 * ({@link #slides}, a scan of four narrow columns), and one slide's bag at a time ({@link #load}, a
 * scan of that slide's bucket), so an archive of resections never has to fit in memory. A slide
 * re-scanned keeps only its latest scan: rows with an older {@code scanned_at} (tiles the new scan
 * no longer has) are left out.
 */
public final class StoredBags implements AutoCloseable {

    /** One slide's latest scan of one model in the store, without its embeddings. */
    public record StoredSlide(String slideId, String modelId, Instant scannedAt, int tiles) {}

    private final Catalog catalog;
    private final Table tiles;
    private final String where;

    private StoredBags(Catalog catalog, Table tiles, String where) {
        this.catalog = catalog;
        this.tiles = tiles;
        this.where = where;
    }

    /**
     * Opens the tiles table of {@code config}.
     *
     * @throws SlideStreamException {@code STORE_UNAVAILABLE} when the catalog does not answer,
     *     {@code INVALID_REQUEST} when the table does not exist yet
     */
    public static StoredBags open(IcebergConfig config) {
        Catalog catalog = IcebergCatalogs.open(config);
        String where = config.namespace() + "." + config.tilesTable();
        try {
            return new StoredBags(
                    catalog,
                    catalog.loadTable(IcebergCatalogs.identifier(config, config.tilesTable())),
                    where);
        } catch (NoSuchTableException e) {
            IcebergCatalogs.close(catalog);
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "the Iceberg table "
                            + where
                            + " does not exist: the job creates it when it starts; run it on"
                            + " some slides first (or check iceberg.namespace and"
                            + " iceberg.tiles-table)");
        } catch (RuntimeException e) {
            IcebergCatalogs.close(catalog);
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "could not load " + where + " from the Iceberg catalog: " + e.getMessage(),
                    e);
        }
    }

    /** Every slide's latest scan of every model, by model_id, then by slide id (both sorted). */
    public Map<String, Map<String, StoredSlide>> slides() {
        Map<String, Map<String, StoredSlide>> byModel = new TreeMap<>();
        var scan = IcebergGenerics.read(tiles).select("slide_id", "model_id", "scanned_at");
        try (CloseableIterable<Record> rows = scan.build()) {
            for (Record r : rows) {
                String slide = (String) r.getField("slide_id");
                String model = (String) r.getField("model_id");
                Instant at = instant(r.getField("scanned_at"));
                byModel.computeIfAbsent(model, m -> new TreeMap<>())
                        .merge(
                                slide,
                                new StoredSlide(slide, model, at, 1),
                                (a, b) ->
                                        a.scannedAt().equals(b.scannedAt())
                                                ? new StoredSlide(slide, model, at, a.tiles() + 1)
                                                : a.scannedAt().isAfter(b.scannedAt()) ? a : b);
            }
        } catch (IOException e) {
            throw unavailable(e);
        }
        return byModel;
    }

    /**
     * The model whose bags to use: {@code requested} when the store has it, else the only model the
     * store has.
     *
     * @throws SlideStreamException {@code INVALID_REQUEST} naming the models the store has when
     *     {@code requested} is not one of them, or when it is null and the store has none or
     *     several
     */
    public static String chooseModel(Map<String, ?> byModel, String requested, String where) {
        if (requested != null) {
            if (!byModel.containsKey(requested)) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "the store holds no embeddings of model '"
                                + requested
                                + "'; it has "
                                + (byModel.isEmpty() ? "none" : String.join(", ", byModel.keySet()))
                                + " in "
                                + where);
            }
            return requested;
        }
        if (byModel.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    where + " holds no tile embeddings yet: run the job on some slides first");
        }
        if (byModel.size() > 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    where
                            + " holds embeddings of "
                            + byModel.size()
                            + " models ("
                            + String.join(", ", byModel.keySet())
                            + "): name one with --model-id");
        }
        return byModel.keySet().iterator().next();
    }

    /** Where the bags come from, {@code namespace.table}, for messages. */
    public String where() {
        return where;
    }

    /** The bag of {@code slide}'s latest scan, tiles in {@code tile_index} order. */
    public FeatureBag load(StoredSlide slide) {
        record Row(int index, long x, long y, List<Float> embedding) {}
        int tileCount = 0;
        List<Row> rows = new ArrayList<>(slide.tiles());
        String uri = null;
        int tilePx = 0;
        long extentPx = 0;
        double mpp = 0;
        var scan =
                IcebergGenerics.read(tiles)
                        .select(
                                "slide_id",
                                "model_id",
                                "scanned_at",
                                "tile_index",
                                "tile_count",
                                "x",
                                "y",
                                "embedding",
                                "tile_px",
                                "extent_px",
                                "mpp",
                                "uri")
                        .where(
                                Expressions.and(
                                        Expressions.equal("slide_id", slide.slideId()),
                                        Expressions.equal("model_id", slide.modelId())));
        try (CloseableIterable<Record> it = scan.build()) {
            for (Record r : it) {
                // The filter prunes files; rows of other slides in a kept file still come back.
                if (!slide.slideId().equals(r.getField("slide_id"))
                        || !slide.modelId().equals(r.getField("model_id"))
                        || !slide.scannedAt().equals(instant(r.getField("scanned_at")))) {
                    continue;
                }
                @SuppressWarnings("unchecked")
                List<Float> embedding = (List<Float>) r.getField("embedding");
                rows.add(
                        new Row(
                                (Integer) r.getField("tile_index"),
                                (Long) r.getField("x"),
                                (Long) r.getField("y"),
                                embedding));
                uri = (String) r.getField("uri");
                tileCount = (Integer) r.getField("tile_count");
                tilePx = (Integer) r.getField("tile_px");
                Long extent = (Long) r.getField("extent_px");
                extentPx = extent == null ? 0 : extent;
                mpp = (Double) r.getField("mpp");
            }
        } catch (IOException e) {
            throw unavailable(e);
        }
        if (rows.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "slide '"
                            + slide.slideId()
                            + "' has no tiles of model "
                            + slide.modelId()
                            + " in "
                            + where
                            + " any more (rewritten while reading?): run the command again");
        }
        rows.sort(Comparator.comparingInt(Row::index));
        int d = rows.get(0).embedding().size();
        float[] features = new float[rows.size() * d];
        long[] coords = new long[rows.size() * 2];
        int[] indices = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            indices[i] = row.index();
            if (row.embedding().size() != d) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "slide '"
                                + slide.slideId()
                                + "' mixes embeddings of length "
                                + d
                                + " and "
                                + row.embedding().size()
                                + " under model "
                                + slide.modelId()
                                + " in "
                                + where);
            }
            for (int j = 0; j < d; j++) {
                features[i * d + j] = row.embedding().get(j);
            }
            coords[2 * i] = row.x();
            coords[2 * i + 1] = row.y();
        }
        if (extentPx <= 0) {
            // Rows written before extent_px existed: the level-0 edge follows from the target.
            extentPx = tilePx;
        }
        return new FeatureBag(
                slide.slideId(),
                slide.modelId(),
                uri,
                slide.scannedAt(),
                d,
                features,
                coords,
                indices,
                tileCount,
                tilePx,
                extentPx,
                mpp);
    }

    private SlideStreamException unavailable(IOException e) {
        UncheckedIOException cause = new UncheckedIOException(e);
        return new SlideStreamException(
                ErrorCode.STORE_UNAVAILABLE,
                "could not read " + where + ": " + e.getMessage(),
                cause);
    }

    private static Instant instant(Object value) {
        return value instanceof OffsetDateTime t ? t.toInstant() : (Instant) value;
    }

    @Override
    public void close() {
        IcebergCatalogs.close(catalog);
    }
}
