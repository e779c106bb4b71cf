package io.slidestream.local;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.milvus.v2.exception.MilvusClientException;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.StoredTile;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.TileGeometry;
import io.slidestream.tiling.TilingConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import javax.imageio.ImageIO;

/**
 * What {@code slidestream search} does: takes a query vector (a stored tile's, or a tile image or
 * slide region embedded as the job embeds it) and searches the tile collection for the nearest
 * tiles of the same model, optionally under a Milvus filter; prints the hits as a table or JSON.
 * Every refusal says what to check.
 */
public final class TileSearch {
    private final MilvusConfig milvus;

    public TileSearch(MilvusConfig milvus) {
        this.milvus = milvus;
    }

    /**
     * The stored embedding of tile ({@code x}, {@code y}) of {@code slideId} by {@code modelId}.
     */
    public float[] storedVector(String slideId, long x, long y, String modelId, Integer level) {
        List<StoredTile> stored;
        try (MilvusStoreReader reader = open()) {
            stored =
                    reader.findTiles(
                            slideId,
                            modelId,
                            level == null ? OptionalInt.empty() : OptionalInt.of(level),
                            x,
                            y);
        }
        String tile = "tile (" + x + ", " + y + ") of slide " + slideId;
        if (stored.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "no "
                            + tile
                            + (level == null ? "" : " at level " + level)
                            + " embedded by model "
                            + modelId
                            + " in collection "
                            + milvus.tilesCollection()
                            + ": check the slide id, the tile origin (level-0 pixels, as `tiles"
                            + " --json` prints it) and --model-id");
        }
        if (stored.size() > 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    tile
                            + " is stored at "
                            + stored.size()
                            + " levels "
                            + stored.stream().map(StoredTile::level).toList()
                            + ": choose one with --level");
        }
        return stored.get(0).embedding();
    }

    /** A tile image (PNG, JPEG) embedded by {@code embedder}. */
    public static float[] embedImage(SingleTileEmbedder embedder, Path png) {
        BufferedImage image;
        try {
            image = ImageIO.read(png.toFile());
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "cannot read tile image " + png + ": " + e.getMessage(),
                    e);
        }
        if (image == null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    png + " is not an image Java can read; give a PNG or JPEG tile");
        }
        return embedder.embed(image);
    }

    /**
     * The tile at level-0 ({@code x}, {@code y}) of a slide, read as the job reads it, embedded.
     */
    public static float[] embedRegion(
            SingleTileEmbedder embedder,
            SlideOpener opener,
            String location,
            OptionalDouble defaultMpp,
            TilingConfig tiling,
            long x,
            long y) {
        try (OpenSlide slide = opener.open(location)) {
            SlideMetadata meta = SlideMetadata.read(slide, location, defaultMpp);
            TileGeometry g = TileGeometry.forSlide(slide, meta.mpp(), tiling);
            if (x < 0 || y < 0 || x + g.span0() > meta.width() || y + g.span0() > meta.height()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        String.format(
                                Locale.ROOT,
                                "the %d px tile at (%d, %d) does not lie inside %s (%d x %d level-0"
                                        + " px)",
                                g.span0(),
                                x,
                                y,
                                location,
                                meta.width(),
                                meta.height()));
            }
            int[] rgb = new int[g.readPx() * g.readPx()];
            slide.readRegion(rgb, x, y, g.readLevel(), g.readPx(), g.readPx());
            return embedder.embed(rgb, g.readPx(), g.readPx());
        }
    }

    /** The {@code k} nearest tiles of {@code modelId} to {@code vector}, under {@code filter}. */
    public List<TileHit> search(float[] vector, int k, String modelId, String filter) {
        String hitFilter =
                MilvusCollections.MODEL_ID
                        + " == "
                        + MilvusStoreReader.quote(modelId)
                        + (filter == null || filter.isBlank() ? "" : " and (" + filter + ")");
        try (MilvusStoreReader reader = open()) {
            return reader.searchTiles(vector, k, hitFilter);
        } catch (MilvusClientException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "Milvus at "
                            + milvus.uri()
                            + " refused the search with filter '"
                            + hitFilter
                            + "': "
                            + e.getMessage()
                            + (filter == null ? "" : "; check --filter"),
                    e);
        }
    }

    private MilvusStoreReader open() {
        try {
            return MilvusStoreReader.open(milvus);
        } catch (SlideStreamException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "Milvus is not reachable at "
                            + milvus.uri()
                            + " ("
                            + e.getMessage()
                            + "); start it or fix "
                            + MilvusOptions.URI.key(),
                    e);
        }
    }

    /** The hits as JSON objects, ranked from 1. */
    public static void addHits(ArrayNode list, List<TileHit> hits) {
        int rank = 1;
        for (TileHit h : hits) {
            list.addObject()
                    .put("rank", rank++)
                    .put("slide_id", h.slideId())
                    .put("uri", h.uri())
                    .put("x", h.x())
                    .put("y", h.y())
                    .put("extent_px", h.extentPx())
                    .put("level", h.level())
                    .put("read_px", h.readPx())
                    .put("score", h.score())
                    .put("tile_key", h.tileKey());
        }
    }

    /** The hits as a table: rank, slide id, x, y, level, score. */
    public static void printTable(PrintWriter out, List<TileHit> hits) {
        int idWidth = "slide_id".length();
        for (TileHit h : hits) {
            idWidth = Math.max(idWidth, h.slideId().length());
        }
        String row = "%4s  %-" + idWidth + "s  %10s  %10s  %5s  %8s%n";
        out.printf(Locale.ROOT, row, "rank", "slide_id", "x", "y", "level", "score");
        int rank = 1;
        for (TileHit h : hits) {
            out.printf(
                    Locale.ROOT,
                    row,
                    rank++,
                    h.slideId(),
                    h.x(),
                    h.y(),
                    h.level(),
                    String.format(Locale.ROOT, "%.4f", h.score()));
        }
        if (hits.isEmpty()) {
            out.println("(no hits)");
        }
    }
}
