package io.slidestream.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.SlideHit;
import io.slidestream.sink.MilvusStoreReader.StoredTile;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * The similarity searches: by a stored tile ({@code GET /api/search/tile}), by an uploaded image
 * ({@code POST /api/search/image}, preprocessed and embedded with the job's model exactly as the
 * job does a tile), and by a whole slide ({@code GET /api/search/slide}, its mean embedding against
 * the slides collection). Every search is over one model's vectors (vectors of different models are
 * not comparable), which the store must hold: {@code model_id}, else the {@linkplain
 * io.slidestream.sink.CurrentModel current model} (for an image: this service's own); each takes
 * {@code k} (at most {@value #MAX_K}) and filters: {@code in_slide} (one slide only), {@code
 * from}/{@code to} (scan time), {@code predicted_class} (class index) or {@code tissue_class}
 * (label of the tile head). Tile hits come with their region and are also grouped by slide.
 */
final class SearchRoutes {
    static final int MAX_K = 100;
    static final int DEFAULT_K = 10;

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final ServeStores stores;
    private final ExpensiveRequests expensive;
    private final ServeLimits limits;

    SearchRoutes(ServeStores stores, ExpensiveRequests expensive, ServeLimits limits) {
        this.stores = stores;
        this.expensive = expensive;
        this.limits = limits;
    }

    void register(Javalin app) {
        app.get("/api/search/tile", ctx -> expensive.run(() -> byTile(ctx)));
        app.post("/api/search/image", ctx -> expensive.run(() -> byImage(ctx)));
        app.get("/api/search/slide", ctx -> expensive.run(() -> bySlide(ctx)));
    }

    private void byTile(Context ctx) {
        String slideId = Params.required(ctx, "slide_id", "the slide of the query tile");
        long x = Params.requiredLong(ctx, "x", "the tile's left edge, level-0 pixels");
        long y = Params.requiredLong(ctx, "y", "the tile's top edge, level-0 pixels");
        Integer level = Params.optionalInt(ctx, "level");
        String modelId = heldModel(ctx);
        int k = k(ctx);
        String filter = tileFilter(ctx, modelId);
        List<StoredTile> found =
                milvus(
                        m ->
                                m.findTiles(
                                        slideId,
                                        modelId,
                                        level == null ? OptionalInt.empty() : OptionalInt.of(level),
                                        x,
                                        y));
        if (found.isEmpty()) {
            throw ApiError.notFound(
                    "TILE_NOT_FOUND",
                    "No tile of slide '"
                            + slideId
                            + "' at ("
                            + x
                            + ", "
                            + y
                            + ") is stored for model "
                            + modelId
                            + ": x and y are a stored tile's top-left corner in level-0 pixels"
                            + " (see GET /api/slides/{id}/tiles)");
        }
        StoredTile query = found.get(0);
        List<TileHit> hits = milvus(m -> m.searchTiles(query.embedding(), k, filter));
        ObjectNode q = JSON.objectNode();
        q.put("kind", "tile");
        q.put("slide_id", slideId);
        q.put("x", x);
        q.put("y", y);
        q.put("level", query.level());
        answerTiles(ctx, q, modelId, k, filter, hits);
    }

    private void byImage(Context ctx) {
        String given = Params.optional(ctx, "model_id");
        String modelId = given == null ? stores.modelId() : given;
        if (!modelId.equals(stores.modelId())) {
            throw new ApiError(
                    400,
                    "MODEL_MISMATCH",
                    "This service embeds images with model "
                            + stores.modelId()
                            + " (inference.model-path); it cannot search vectors of "
                            + modelId
                            + " with an uploaded image. Ask with model_id="
                            + stores.modelId());
        }
        requireHeld(modelId);
        int k = k(ctx);
        String filter = tileFilter(ctx, modelId);
        byte[] body = ctx.bodyAsBytes();
        if (body.length == 0) {
            throw ApiError.badRequest(
                    "The request body is empty: send the image (PNG or JPEG) as the body");
        }
        if (body.length > limits.uploadBytes()) {
            throw new ApiError(
                    413,
                    "IMAGE_TOO_LARGE",
                    "The image has "
                            + body.length
                            + " bytes; at most "
                            + limits.uploadBytes()
                            + " are accepted. Send a tile, not a slide");
        }
        BufferedImage image = decode(body);
        float[] vector = stores.embed(image);
        List<TileHit> hits = milvus(m -> m.searchTiles(vector, k, filter));
        ObjectNode q = JSON.objectNode();
        q.put("kind", "image");
        q.put("width", image.getWidth());
        q.put("height", image.getHeight());
        answerTiles(ctx, q, modelId, k, filter, hits);
    }

    private void bySlide(Context ctx) {
        String slideId = Params.required(ctx, "slide_id", "the slide to compare");
        String modelId = heldModel(ctx);
        int k = k(ctx);
        List<String> filters = new ArrayList<>();
        filters.add(MilvusCollections.MODEL_ID + " == " + MilvusStoreReader.quote(modelId));
        timeFilters(ctx, filters);
        Integer predicted = Params.optionalInt(ctx, "predicted_class");
        if (predicted != null) {
            filters.add(MilvusCollections.PREDICTED_CLASS + " == " + predicted);
        }
        String filter = String.join(" and ", filters);
        float[] vector =
                milvus(m -> m.slideEmbedding(slideId, modelId))
                        .orElseThrow(
                                () ->
                                        ApiError.notFound(
                                                "SLIDE_NOT_FOUND",
                                                "Slide '"
                                                        + slideId
                                                        + "' has no result for model "
                                                        + modelId
                                                        + " in Milvus"));
        List<SlideHit> hits = milvus(m -> m.searchSlides(vector, k, filter));
        ObjectNode root = JSON.objectNode();
        ObjectNode q = root.putObject("query");
        q.put("kind", "slide");
        q.put("slide_id", slideId);
        q.put("model_id", modelId);
        q.put("k", k);
        q.put("filter", filter);
        ArrayNode list = root.putArray("hits");
        int rank = 1;
        for (SlideHit h : hits) {
            ObjectNode o = list.addObject();
            o.put("rank", rank++);
            o.put("slide_id", h.slideId());
            o.put("slide_key", h.slideKey());
            o.put("uri", h.uri());
            o.put("predicted_class", h.predictedClass());
            o.put("complete", h.complete());
            o.put("score", h.score());
        }
        ServeJson.send(ctx, root);
    }

    private void answerTiles(
            Context ctx, ObjectNode q, String modelId, int k, String filter, List<TileHit> hits) {
        ObjectNode root = JSON.objectNode();
        q.put("model_id", modelId);
        q.put("k", k);
        q.put("filter", filter);
        root.set("query", q);
        List<String> classes = stores.config().aggregate().tissueClasses();
        ArrayNode list = root.putArray("hits");
        Map<String, ObjectNode> bySlide = new LinkedHashMap<>();
        int rank = 1;
        for (TileHit h : hits) {
            ObjectNode o = list.addObject();
            o.put("rank", rank);
            o.put("tile_key", h.tileKey());
            o.put("slide_id", h.slideId());
            o.put("uri", h.uri());
            ObjectNode region = o.putObject("region");
            region.put("x", h.x());
            region.put("y", h.y());
            region.put("width", h.extentPx());
            region.put("height", h.extentPx());
            o.put("level", h.level());
            o.put("read_px", h.readPx());
            o.put("predicted_class", h.predictedClass());
            if (h.predictedClass() >= 0 && h.predictedClass() < classes.size()) {
                o.put("tissue_class", classes.get(h.predictedClass()));
            }
            o.put("score", h.score());
            o.put(
                    "image",
                    "/api/slides/"
                            + ServeJson.urlEncode(h.slideId())
                            + "/region?x="
                            + h.x()
                            + "&y="
                            + h.y()
                            + "&extent="
                            + h.extentPx());
            ObjectNode group =
                    bySlide.computeIfAbsent(
                            h.slideId(),
                            id -> {
                                ObjectNode g = JSON.objectNode();
                                g.put("slide_id", id);
                                g.put("best_score", h.score());
                                g.putArray("ranks");
                                return g;
                            });
            ((ArrayNode) group.get("ranks")).add(rank);
            rank++;
        }
        ArrayNode groups = root.putArray("by_slide");
        bySlide.values().forEach(groups::add);
        ServeJson.send(ctx, root);
    }

    /**
     * The {@code model_id} parameter, or the current model when it is not given; the store must
     * hold it.
     */
    private String heldModel(Context ctx) {
        String given = Params.optional(ctx, "model_id");
        String modelId = given == null ? stores.currentModelId() : given;
        requireHeld(modelId);
        return modelId;
    }

    private void requireHeld(String modelId) {
        if (!milvus(m -> m.holdsModel(modelId))) {
            throw ApiError.notFound(
                    "UNKNOWN_MODEL",
                    "Milvus collection "
                            + stores.config().milvus().tilesCollection()
                            + " holds no vectors of model '"
                            + modelId
                            + "' (this service's model is "
                            + stores.modelId()
                            + ")");
        }
    }

    private static int k(Context ctx) {
        return Params.bounded(ctx, "k", DEFAULT_K, 1, MAX_K);
    }

    /** model_id, then the optional filters of a tile search, as a Milvus expression. */
    private String tileFilter(Context ctx, String modelId) {
        List<String> filters = new ArrayList<>();
        filters.add(MilvusCollections.MODEL_ID + " == " + MilvusStoreReader.quote(modelId));
        String slide = Params.optional(ctx, "in_slide");
        if (slide != null) {
            filters.add(MilvusCollections.SLIDE_ID + " == " + MilvusStoreReader.quote(slide));
        }
        timeFilters(ctx, filters);
        Integer predicted = Params.optionalInt(ctx, "predicted_class");
        String label = Params.optional(ctx, "tissue_class");
        if (label != null) {
            List<String> classes = stores.config().aggregate().tissueClasses();
            int index = classes.indexOf(label);
            if (index < 0) {
                throw ApiError.badRequest(
                        "Unknown tissue_class '"
                                + label
                                + "': the tile head's classes are "
                                + classes
                                + " (aggregate.tissue-classes)");
            }
            predicted = index;
        }
        if (predicted != null) {
            filters.add(MilvusCollections.PREDICTED_CLASS + " == " + predicted);
        }
        return String.join(" and ", filters);
    }

    private static void timeFilters(Context ctx, List<String> filters) {
        Instant from = Params.instant(ctx, "from", false);
        Instant to = Params.instant(ctx, "to", true);
        if (from != null) {
            filters.add(MilvusCollections.SCANNED_AT + " >= " + from.toEpochMilli());
        }
        if (to != null) {
            filters.add(MilvusCollections.SCANNED_AT + " < " + to.toEpochMilli());
        }
    }

    private BufferedImage decode(byte[] body) {
        try {
            javax.imageio.stream.ImageInputStream in =
                    ImageIO.createImageInputStream(new ByteArrayInputStream(body));
            var readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ApiError(
                        415,
                        "NOT_AN_IMAGE",
                        "The body is not an image this service reads: send a PNG or JPEG tile");
            }
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > limits.uploadPixels()) {
                    throw new ApiError(
                            413,
                            "IMAGE_TOO_LARGE",
                            "The image is "
                                    + reader.getWidth(0)
                                    + " x "
                                    + reader.getHeight(0)
                                    + " pixels; at most "
                                    + limits.uploadPixels()
                                    + " pixels are accepted. Send a tile, not a slide");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiError api) {
                throw api;
            }
            throw new ApiError(
                    415,
                    "NOT_AN_IMAGE",
                    "The body could not be decoded as an image: send a PNG or JPEG tile");
        }
    }

    /** Runs {@code call} on Milvus; a failure of Milvus itself is a 503, not a bad request. */
    private <T> T milvus(Function<MilvusStoreReader, T> call) {
        MilvusStoreReader reader = stores.milvus();
        try {
            return call.apply(reader);
        } catch (ApiError e) {
            throw e;
        } catch (io.slidestream.errors.SlideStreamException e) {
            throw ApiError.notFound("NO_COLLECTION", e.getMessage());
        } catch (RuntimeException e) {
            stores.milvusFailed();
            throw ServeStores.unavailable("Milvus at " + stores.config().milvus().uri(), e);
        }
    }
}
