package io.slidestream.sink;

import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.service.vector.request.QueryReq;
import io.milvus.v2.service.vector.request.SearchReq;
import io.milvus.v2.service.vector.request.data.FloatVec;
import io.milvus.v2.service.vector.response.QueryResp;
import io.milvus.v2.service.vector.response.SearchResp;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollection;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusKeys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads SlideStream's Milvus collections back: entity counts per slide (for the demo summary and
 * the integration tests), stored tiles with their embeddings, and similarity search over tile
 * embeddings. Reads with strong consistency, so everything a completed checkpoint wrote is visible.
 */
public final class MilvusStoreReader implements AutoCloseable {

    /** One search hit in the {@code tiles} collection. */
    public record TileHit(
            long tileKey,
            String slideId,
            String uri,
            long x,
            long y,
            long extentPx,
            int level,
            int readPx,
            int predictedClass,
            float score) {}

    /** One hit of a slide search, with the slide's prediction. */
    public record SlideHit(
            long slideKey,
            String slideId,
            String uri,
            int predictedClass,
            boolean complete,
            float score) {}

    /** One stored tile entity with its embedding. */
    public record StoredTile(
            long tileKey,
            String slideId,
            String modelId,
            long x,
            long y,
            int level,
            float[] embedding) {}

    /** Entities a tile lookup may return: one per level in the worst case, never many. */
    private static final int MAX_TILE_MATCHES = 64;

    private final MilvusConfig config;
    private final MilvusClientV2 client;

    private MilvusStoreReader(MilvusConfig config, MilvusClientV2 client) {
        this.config = config;
        this.client = client;
    }

    /** Connects to the Milvus of {@code config} (throws when it is away). */
    public static MilvusStoreReader open(MilvusConfig config) {
        return new MilvusStoreReader(config, MilvusCollectionAdmin.connect(config));
    }

    /** Entities of {@code slideId} in {@code collection}; 0 when the collection does not exist. */
    public long count(String collection, String slideId) {
        return countWhere(collection, MilvusCollections.SLIDE_ID + " == " + quote(slideId));
    }

    /**
     * Entities of {@code collection} that match the Milvus filter expression {@code filter}; 0 when
     * the collection does not exist.
     */
    public long countWhere(String collection, String filter) {
        if (!MilvusCollectionAdmin.hasCollection(client, collection)) {
            return 0;
        }
        QueryResp response =
                client.query(
                        QueryReq.builder()
                                .collectionName(collection)
                                .filter(filter)
                                .outputFields(List.of("count(*)"))
                                .consistencyLevel(ConsistencyLevel.STRONG)
                                .build());
        return ((Number) response.getQueryResults().get(0).getEntity().get("count(*)")).longValue();
    }

    /** Entities per slide in {@code collection}, in the order of {@code slideIds}. */
    public Map<String, Long> countPerSlide(String collection, Collection<String> slideIds) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String slideId : slideIds) {
            counts.put(slideId, count(collection, slideId));
        }
        return counts;
    }

    /** Tile entities of {@code slideId} in the configured tiles collection. */
    public long countTiles(String slideId) {
        return count(config.tilesCollection(), slideId);
    }

    /** Slide entities of {@code slideId} in the configured slides collection. */
    public long countSlides(String slideId) {
        return count(config.slidesCollection(), slideId);
    }

    /**
     * The stored tile of {@code slideId} with origin ({@code x}, {@code y}) embedded by {@code
     * modelId}: looked up by its primary key ({@link MilvusKeys#tileKey}) when {@code level} is
     * given, else by its fields, which may match one tile per level it was stored at.
     *
     * @throws SlideStreamException {@link ErrorCode#INVALID_REQUEST} when the tiles collection does
     *     not exist
     */
    public List<StoredTile> findTiles(
            String slideId, String modelId, OptionalInt level, long x, long y) {
        requireTilesCollection();
        String filter =
                level.isPresent()
                        ? MilvusCollections.TILE_KEY
                                + " == "
                                + MilvusKeys.tileKey(slideId, modelId, level.getAsInt(), x, y)
                        : MilvusCollections.SLIDE_ID
                                + " == "
                                + quote(slideId)
                                + " and "
                                + MilvusCollections.MODEL_ID
                                + " == "
                                + quote(modelId)
                                + " and "
                                + MilvusCollections.X
                                + " == "
                                + x
                                + " and "
                                + MilvusCollections.Y
                                + " == "
                                + y;
        QueryResp response =
                client.query(
                        QueryReq.builder()
                                .collectionName(holding(config.tilesCollection(), modelId))
                                .filter(filter)
                                .outputFields(
                                        List.of(
                                                MilvusCollections.SLIDE_ID,
                                                MilvusCollections.MODEL_ID,
                                                MilvusCollections.X,
                                                MilvusCollections.Y,
                                                MilvusCollections.LEVEL,
                                                MilvusCollections.EMBEDDING))
                                .limit(MAX_TILE_MATCHES)
                                .consistencyLevel(ConsistencyLevel.STRONG)
                                .build());
        List<StoredTile> tiles = new ArrayList<>();
        for (QueryResp.QueryResult r : response.getQueryResults()) {
            Map<String, Object> e = r.getEntity();
            tiles.add(
                    new StoredTile(
                            ((Number) e.get(MilvusCollections.TILE_KEY)).longValue(),
                            (String) e.get(MilvusCollections.SLIDE_ID),
                            (String) e.get(MilvusCollections.MODEL_ID),
                            ((Number) e.get(MilvusCollections.X)).longValue(),
                            ((Number) e.get(MilvusCollections.Y)).longValue(),
                            ((Number) e.get(MilvusCollections.LEVEL)).intValue(),
                            floats(e.get(MilvusCollections.EMBEDDING))));
        }
        return tiles;
    }

    /**
     * The {@code topK} tiles most similar to {@code vector} under the collection's metric,
     * optionally restricted by a Milvus filter expression (e.g. {@code model_id == "gpfm"}).
     */
    public List<TileHit> searchTiles(float[] vector, int topK, String filter) {
        requireTilesCollection();
        List<TileHit> hits = new ArrayList<>();
        for (SearchResp.SearchResult r :
                search(
                        forVector(config.tilesCollection(), MilvusCollections.TILES, vector),
                        MilvusCollections.EMBEDDING,
                        vector,
                        topK,
                        filter,
                        List.of(
                                MilvusCollections.SLIDE_ID,
                                MilvusCollections.URI,
                                MilvusCollections.X,
                                MilvusCollections.Y,
                                MilvusCollections.EXTENT_PX,
                                MilvusCollections.LEVEL,
                                MilvusCollections.READ_PX,
                                MilvusCollections.PREDICTED_CLASS))) {
            Map<String, Object> e = r.getEntity();
            hits.add(
                    new TileHit(
                            ((Number) r.getId()).longValue(),
                            (String) e.get(MilvusCollections.SLIDE_ID),
                            (String) e.get(MilvusCollections.URI),
                            ((Number) e.get(MilvusCollections.X)).longValue(),
                            ((Number) e.get(MilvusCollections.Y)).longValue(),
                            ((Number) e.get(MilvusCollections.EXTENT_PX)).longValue(),
                            ((Number) e.get(MilvusCollections.LEVEL)).intValue(),
                            ((Number) e.get(MilvusCollections.READ_PX)).intValue(),
                            ((Number) e.get(MilvusCollections.PREDICTED_CLASS)).intValue(),
                            r.getScore()));
        }
        return hits;
    }

    /**
     * The mean embedding of slide {@code slideId} under {@code modelId}, looked up by its key in
     * the slides collection; empty when the slide has no result for that model.
     */
    public Optional<float[]> slideEmbedding(String slideId, String modelId) {
        for (String collection : MilvusCollectionAdmin.family(client, config.slidesCollection())) {
            QueryResp response =
                    client.query(
                            QueryReq.builder()
                                    .collectionName(collection)
                                    .filter(
                                            MilvusCollections.SLIDE_KEY
                                                    + " == "
                                                    + MilvusKeys.slideKey(slideId, modelId))
                                    .outputFields(List.of(MilvusCollections.MEAN_EMBEDDING))
                                    .consistencyLevel(ConsistencyLevel.STRONG)
                                    .build());
            for (QueryResp.QueryResult r : response.getQueryResults()) {
                return Optional.of(floats(r.getEntity().get(MilvusCollections.MEAN_EMBEDDING)));
            }
        }
        return Optional.empty();
    }

    /**
     * The {@code topK} slides whose mean embeddings are most similar to {@code vector}, optionally
     * restricted by a Milvus filter expression.
     */
    public List<SlideHit> searchSlides(float[] vector, int topK, String filter) {
        if (!MilvusCollectionAdmin.hasCollection(client, config.slidesCollection())) {
            return List.of();
        }
        List<SlideHit> hits = new ArrayList<>();
        for (SearchResp.SearchResult r :
                search(
                        forVector(config.slidesCollection(), MilvusCollections.SLIDES, vector),
                        MilvusCollections.MEAN_EMBEDDING,
                        vector,
                        topK,
                        filter,
                        List.of(
                                MilvusCollections.SLIDE_ID,
                                MilvusCollections.URI,
                                MilvusCollections.PREDICTED_CLASS,
                                MilvusCollections.COMPLETE))) {
            Map<String, Object> e = r.getEntity();
            hits.add(
                    new SlideHit(
                            ((Number) r.getId()).longValue(),
                            (String) e.get(MilvusCollections.SLIDE_ID),
                            (String) e.get(MilvusCollections.URI),
                            ((Number) e.get(MilvusCollections.PREDICTED_CLASS)).intValue(),
                            Boolean.TRUE.equals(e.get(MilvusCollections.COMPLETE)),
                            r.getScore()));
        }
        return hits;
    }

    /** The {@code topK} nearest entities to {@code vector} in one collection (strong reads). */
    private List<SearchResp.SearchResult> search(
            String collection,
            String vectorField,
            float[] vector,
            int topK,
            String filter,
            List<String> outputFields) {
        SearchReq.SearchReqBuilder search =
                SearchReq.builder()
                        .collectionName(collection)
                        .annsField(vectorField)
                        .data(List.of(new FloatVec(vector)))
                        .limit(topK)
                        .outputFields(outputFields)
                        .consistencyLevel(ConsistencyLevel.STRONG);
        if (filter != null && !filter.isBlank()) {
            search.filter(filter);
        }
        if (!config.searchParams().isEmpty()) {
            Map<String, Object> params = new LinkedHashMap<>();
            config.searchParams()
                    .forEach((k, v) -> params.put(k, MilvusCollectionAdmin.numberOrString(v)));
            search.searchParams(params);
        }
        return client.search(search.build()).getSearchResults().get(0);
    }

    /** Whether the tiles collections hold any vector of model {@code modelId}. */
    public boolean holdsModel(String modelId) {
        return countModel(config.tilesCollection(), modelId) > 0;
    }

    /**
     * Entities of model {@code modelId} in the collection {@code base} and its per-dimension
     * siblings ({@link MilvusCollectionAdmin#family}).
     */
    public long countModel(String base, String modelId) {
        long count = 0;
        for (String collection : MilvusCollectionAdmin.family(client, base)) {
            count += countWhere(collection, MilvusCollections.MODEL_ID + " == " + quote(modelId));
        }
        return count;
    }

    /** The collection of {@code base}'s family that holds model {@code modelId}; else base. */
    private String holding(String base, String modelId) {
        for (String collection : MilvusCollectionAdmin.family(client, base)) {
            if (countWhere(collection, MilvusCollections.MODEL_ID + " == " + quote(modelId)) > 0) {
                return collection;
            }
        }
        return base;
    }

    /** The collection of {@code base}'s family for vectors as long as {@code vector}. */
    private String forVector(String base, MilvusCollection definition, float[] vector) {
        return MilvusCollectionAdmin.collectionFor(client, base, definition, vector.length);
    }

    /** The configured tiles collection, or an error that says how to get one. */
    private void requireTilesCollection() {
        if (!MilvusCollectionAdmin.hasCollection(client, config.tilesCollection())) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "Milvus at "
                            + config.uri()
                            + " has no collection '"
                            + config.tilesCollection()
                            + "': no tiles have been stored there yet. Run the job first, or name"
                            + " the collection it writes to (milvus.tiles-collection).");
        }
    }

    /** A FloatVector field as the SDK returns it from a query (a list of floats). */
    private static float[] floats(Object vector) {
        List<?> values = (List<?>) vector;
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.get(i)).floatValue();
        }
        return out;
    }

    /** A Milvus string literal: double quotes, with backslashes and quotes escaped. */
    public static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @Override
    public void close() {
        client.close();
    }
}
