package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.milvus.v2.exception.MilvusClientException;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.StoredTile;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.tiling.TileGeometry;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream search}: finds the stored tiles most similar to one tile. The query vector is
 * the stored embedding of a tile already in Milvus ({@code --tile}), or the embedding of a tile
 * image ({@code --png}) or of a slide region ({@code --slide --x --y}) computed with the same
 * preprocessing and model as the job ({@link SingleTileEmbedder}). Hits are restricted to vectors
 * of the same model (a vector is only comparable with its own model's) and to {@code --filter};
 * they print as a table, or as one JSON document with {@code --json}.
 */
@Command(
        name = "search",
        customSynopsis = {
            "slidestream search (--tile SLIDE_ID X Y --model-id ID [--level L]",
            "                          | --png TILE.png --model M.onnx",
            "                          | --slide SLIDE --x X --y Y --model M.onnx",
            "                            [--target-mpp M] [--tile-px N])",
            "                          [--config FILE] [-D milvus.uri=URI] [--k K]",
            "                          [--filter EXPR] [--json]"
        },
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Find the stored tiles most similar to a tile (Milvus similarity search).")
final class SearchCommand implements Callable<Integer> {

    /** Milvus' largest top-k. */
    private static final int MAX_K = 16_384;

    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Query query;

    /** Where the query vector comes from: exactly one of these. */
    static final class Query {
        @Option(
                names = "--tile",
                arity = "3",
                paramLabel = "SLIDE_ID X Y",
                hideParamSyntax = true,
                description = "A stored tile: its slide id and level-0 origin (needs --model-id).")
        List<String> tile;

        @Option(
                names = "--png",
                paramLabel = "TILE.png",
                description =
                        "A tile image, as the job reads it (the read-level region; it is resized to"
                                + " the model's input), embedded with --model.")
        Path png;

        @Option(
                names = "--slide",
                paramLabel = "SLIDE",
                description =
                        "A slide: the tile at --x/--y is read as the job reads it (--target-mpp,"
                                + " --tile-px) and embedded with --model.")
        String slide;
    }

    @Option(names = "--x", paramLabel = "X", description = "Level-0 x of the tile (with --slide).")
    Long x;

    @Option(names = "--y", paramLabel = "Y", description = "Level-0 y of the tile (with --slide).")
    Long y;

    @Option(
            names = "--model",
            paramLabel = "M.onnx",
            description = "The embedding model (with --png and --slide).")
    Path model;

    @Option(
            names = "--model-id",
            paramLabel = "ID",
            description = "Model id of the stored tile (with --tile; as in the model_id field).")
    String modelId;

    @Option(
            names = "--level",
            paramLabel = "L",
            description =
                    "Read level of the stored tile (with --tile; default: whichever is stored)."
                            + " With it the tile is looked up by its primary key.")
    Integer level;

    @Option(
            names = "--k",
            paramLabel = "K",
            defaultValue = "10",
            description = "Number of hits (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--filter",
            paramLabel = "EXPR",
            description = "Milvus filter on the hits, e.g. 'slide_id != \"S1\"' or 'level == 1'.")
    String filter;

    @Option(names = "--json", description = "Print one JSON document instead of a table.")
    boolean json;

    @Mixin SlideOptions slideOptions;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        MilvusConfig milvus =
                new ConfigBuilder<>(
                                MilvusConfig::from,
                                slideOptions.accepting("milvus.").configuration())
                        // Long enough for a top-k search over millions of tiles, short enough
                        // that an address nothing answers on fails promptly.
                        .set(MilvusOptions.RPC_TIMEOUT, Duration.ofSeconds(10))
                        .build();
        String queryModel;
        float[] vector;
        if (query.tile != null) {
            queryModel = modelId;
            vector = storedVector(milvus);
        } else {
            try (SingleTileEmbedder embedder = SingleTileEmbedder.open(model)) {
                queryModel = embedder.modelId();
                vector = query.png != null ? embedPng(embedder) : embedRegion(embedder);
            }
        }
        String hitFilter =
                MilvusCollections.MODEL_ID
                        + " == "
                        + MilvusStoreReader.quote(queryModel)
                        + (filter == null || filter.isBlank() ? "" : " and (" + filter + ")");
        List<TileHit> hits;
        try (MilvusStoreReader reader = open(milvus)) {
            hits = reader.searchTiles(vector, k, hitFilter);
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
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(
                    new ObjectMapper()
                            .enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(
                                    toJson(queryModel, milvus.tilesCollection(), hits)));
        } else {
            printTable(out, hits);
        }
        out.flush();
        return 0;
    }

    private void checkOptions() {
        boolean byTile = query.tile != null;
        if (byTile && query.tile.size() != 3) {
            throw usage("give --tile once: SLIDE_ID X Y");
        }
        if (k < 1 || k > MAX_K) {
            throw usage("--k must be between 1 and " + MAX_K + ", not " + k);
        }
        if (byTile && modelId == null) {
            throw usage(
                    "--tile needs --model-id: the model whose vector to take (the model_id the job"
                            + " stored)");
        }
        if (!byTile && (modelId != null || level != null)) {
            throw usage("--model-id and --level go with --tile only");
        }
        if (!byTile && model == null) {
            throw usage("--png and --slide need --model M.onnx to embed the tile");
        }
        if (byTile && model != null) {
            throw usage("--tile takes the stored vector; --model goes with --png and --slide");
        }
        if ((query.slide != null) != (x != null && y != null)
                || (query.slide == null && (x != null || y != null))) {
            throw usage("--x and --y go together, and with --slide only");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** The stored embedding of the --tile tile. */
    private float[] storedVector(MilvusConfig milvus) {
        String slideId = query.tile.get(0);
        long tileX = parseCoordinate("X", query.tile.get(1));
        long tileY = parseCoordinate("Y", query.tile.get(2));
        List<StoredTile> stored;
        try (MilvusStoreReader reader = open(milvus)) {
            stored =
                    reader.findTiles(
                            slideId,
                            modelId,
                            level == null ? OptionalInt.empty() : OptionalInt.of(level),
                            tileX,
                            tileY);
        }
        String tile = "tile (" + tileX + ", " + tileY + ") of slide " + slideId;
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

    private long parseCoordinate(String name, String value) {
        try {
            long v = Long.parseLong(value);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw usage(
                "--tile " + name + " must be a level-0 pixel coordinate >= 0, not '" + value + "'");
    }

    private float[] embedPng(SingleTileEmbedder embedder) {
        BufferedImage image;
        try {
            image = ImageIO.read(query.png.toFile());
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "cannot read tile image " + query.png + ": " + e.getMessage(),
                    e);
        }
        if (image == null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    query.png + " is not an image Java can read; give a PNG or JPEG tile");
        }
        return embedder.embed(image);
    }

    /** Reads the --x/--y tile exactly as the job's TileEmbedder does, then embeds it. */
    private float[] embedRegion(SingleTileEmbedder embedder) {
        try (OpenSlide slide = slideOptions.opener().open(query.slide)) {
            SlideMetadata meta = SlideMetadata.read(slide, query.slide, slideOptions.defaultMpp());
            TileGeometry g = TileGeometry.forSlide(slide, meta.mpp(), slideOptions.tilingConfig());
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
                                query.slide,
                                meta.width(),
                                meta.height()));
            }
            int[] rgb = new int[g.readPx() * g.readPx()];
            slide.readRegion(rgb, x, y, g.readLevel(), g.readPx(), g.readPx());
            return embedder.embed(rgb, g.readPx(), g.readPx());
        }
    }

    private static MilvusStoreReader open(MilvusConfig milvus) {
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

    private ObjectNode toJson(String queryModel, String collection, List<TileHit> hits) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        ObjectNode q = root.putObject("query");
        if (query.tile != null) {
            q.put("slide_id", query.tile.get(0));
            q.put("x", Long.parseLong(query.tile.get(1)));
            q.put("y", Long.parseLong(query.tile.get(2)));
        } else if (query.png != null) {
            q.put("png", query.png.toString());
        } else {
            q.put("slide", query.slide);
            q.put("x", x);
            q.put("y", y);
        }
        q.put("model_id", queryModel);
        root.put("collection", collection);
        ArrayNode list = root.putArray("hits");
        int rank = 1;
        for (TileHit h : hits) {
            ObjectNode o = list.addObject();
            o.put("rank", rank++);
            o.put("slide_id", h.slideId());
            o.put("uri", h.uri());
            o.put("x", h.x());
            o.put("y", h.y());
            o.put("extent_px", h.extentPx());
            o.put("level", h.level());
            o.put("read_px", h.readPx());
            o.put("score", h.score());
            o.put("tile_key", h.tileKey());
        }
        return root;
    }

    private static void printTable(PrintWriter out, List<TileHit> hits) {
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
