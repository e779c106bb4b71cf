package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.local.TileSearch;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
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
        TileSearch search = new TileSearch(milvus);
        String queryModel;
        float[] vector;
        if (query.tile != null) {
            queryModel = modelId;
            vector =
                    search.storedVector(
                            query.tile.get(0),
                            parseCoordinate("X", query.tile.get(1)),
                            parseCoordinate("Y", query.tile.get(2)),
                            modelId,
                            level);
        } else {
            try (SingleTileEmbedder embedder = SingleTileEmbedder.open(model)) {
                queryModel = embedder.modelId();
                vector =
                        query.png != null
                                ? TileSearch.embedImage(embedder, query.png)
                                : TileSearch.embedRegion(
                                        embedder,
                                        slideOptions.opener(),
                                        query.slide,
                                        slideOptions.defaultMpp(),
                                        slideOptions.tilingConfig(),
                                        x,
                                        y);
            }
        }
        List<TileHit> hits = search.search(vector, k, queryModel, filter);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(
                    new ObjectMapper()
                            .enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(
                                    toJson(queryModel, milvus.tilesCollection(), hits)));
        } else {
            TileSearch.printTable(out, hits);
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
        TileSearch.addHits(root.putArray("hits"), hits);
        return root;
    }
}
