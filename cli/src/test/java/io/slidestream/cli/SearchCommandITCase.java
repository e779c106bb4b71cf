package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.service.vector.request.UpsertReq;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.local.MilvusLite;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.milvus.MilvusKeys;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.SinkTestData;
import io.slidestream.sink.TileEntityConverter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code search} against a real Milvus Lite: tiles upserted as the job's tile sink writes them
 * ({@link TileEntityConverter}), queried by a stored tile and by a tile image embedded with the
 * gpfm-tiny fixture model.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SearchCommandITCase {
    static final int D = 64;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path GPFM_TINY =
            Path.of(
                    System.getProperty("slidestream.shared", "../../shared"),
                    "fixtures",
                    "gpfm-tiny");
    static final Pattern TILE_NAME = Pattern.compile("tile_\\d+_x(\\d+)_y(\\d+)_\\d+\\.png");

    @TempDir static Path dir;

    static MilvusLite milvus;
    static List<TileEmbedding> synthetic;
    static String tinyModelId;

    @BeforeAll
    static void storeTiles() throws Exception {
        milvus = MilvusLite.start(dir.resolve("m.db"));
        synthetic = new ArrayList<>(SinkTestData.tiles("slide-a", 30, 6, D));
        synthetic.addAll(SinkTestData.tiles("slide-b", 20, 5, D));
        upsert("synthetic", synthetic);

        // The PyTorch reference embeddings of the fixture tiles, stored as the job would store
        // them: searching with the Java pipeline's embedding of the same PNG must find each one.
        try (SingleTileEmbedder embedder =
                SingleTileEmbedder.open(GPFM_TINY.resolve("gpfm-tiny.onnx"))) {
            tinyModelId = embedder.modelId();
        }
        List<TileEmbedding> reference = new ArrayList<>();
        JsonNode tiles = JSON.readTree(GPFM_TINY.resolve("reference.json").toFile()).get("tiles");
        int index = 0;
        for (JsonNode t : tiles) {
            Matcher m = TILE_NAME.matcher(t.get("file").asText());
            assertThat(m.matches()).as(t.get("file").asText()).isTrue();
            TileEmbedding e = SinkTestData.tile("cmu-1", index, tiles.size(), 1, 4);
            e.x = Long.parseLong(m.group(1));
            e.y = Long.parseLong(m.group(2));
            e.modelId = tinyModelId;
            JsonNode values = t.get("embedding");
            e.embedding = new float[values.size()];
            for (int i = 0; i < values.size(); i++) {
                e.embedding[i] = (float) values.get(i).asDouble();
            }
            reference.add(e);
            index++;
        }
        upsert("reference", reference);
    }

    @AfterAll
    static void stopMilvus() {
        if (milvus != null) {
            milvus.close();
        }
    }

    static void upsert(String collection, List<TileEmbedding> tiles) {
        MilvusConfig config = MilvusConfig.builder().set(MilvusOptions.URI, milvus.uri()).build();
        TileEntityConverter converter = new TileEntityConverter();
        MilvusClientV2 client = MilvusCollectionAdmin.connect(config);
        try {
            MilvusCollectionAdmin.ensureCollection(
                    client,
                    config,
                    collection,
                    MilvusCollections.TILES,
                    tiles.get(0).embedding.length);
            client.upsert(
                    UpsertReq.builder()
                            .collectionName(collection)
                            .data(tiles.stream().map(converter::toEntity).toList())
                            .build());
        } finally {
            client.close();
        }
    }

    CliRun search(String... args) {
        List<String> all = new ArrayList<>(List.of("search", "-D", "milvus.uri=" + milvus.uri()));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    @Test
    void aStoredTilesOwnVectorFindsThatTileFirst() throws Exception {
        for (TileEmbedding tile : List.of(synthetic.get(7), synthetic.get(42))) {
            CliRun run =
                    search(
                            "-D",
                            "milvus.tiles-collection=synthetic",
                            "--tile",
                            tile.slideId,
                            Long.toString(tile.x),
                            Long.toString(tile.y),
                            "--model-id",
                            tile.modelId,
                            "--k",
                            "3",
                            "--json");
            assertThat(run.exitCode()).as(run.err()).isZero();
            JsonNode hits = JSON.readTree(run.out()).get("hits");
            assertThat(hits).hasSize(3);
            JsonNode first = hits.get(0);
            assertThat(first.get("slide_id").asText()).isEqualTo(tile.slideId);
            assertThat(first.get("x").asLong()).isEqualTo(tile.x);
            assertThat(first.get("y").asLong()).isEqualTo(tile.y);
            assertThat(first.get("tile_key").asLong())
                    .isEqualTo(MilvusKeys.tileKey(tile.slideId, tile.modelId, 0, tile.x, tile.y));
            assertThat(first.get("uri").asText()).isEqualTo(tile.uri);
            assertThat(first.get("read_px").asInt()).isEqualTo(tile.readPx);
            assertThat(first.get("extent_px").asLong()).isEqualTo(tile.extentPx);
            assertThat(first.get("score").asDouble()).isGreaterThan(0.999);
            assertThat(hits.get(1).get("score").asDouble())
                    .isLessThan(first.get("score").asDouble());
        }
    }

    @Test
    void looksUpATileByItsKeyWhenTheLevelIsGivenAndAppliesTheFilter() {
        TileEmbedding tile = synthetic.get(3);
        CliRun run =
                search(
                        "-D",
                        "milvus.tiles-collection=synthetic",
                        "--tile",
                        tile.slideId,
                        Long.toString(tile.x),
                        Long.toString(tile.y),
                        "--model-id",
                        tile.modelId,
                        "--level",
                        "0",
                        "--filter",
                        "slide_id == \"slide-b\"",
                        "--k",
                        "5");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> rows = run.out().strip().lines().toList();
        assertThat(rows.get(0)).contains("rank", "slide_id", "score");
        assertThat(rows).hasSize(6);
        assertThat(rows.subList(1, 6))
                .allMatch(r -> r.contains("slide-b") && !r.contains("slide-a"));
    }

    @Test
    void aTileImageEmbeddedWithTheModelFindsItsStoredReferenceFirst() throws Exception {
        for (String file : List.of("tile_03_x1024_y1536_256.png", "tile_08_x1024_y1024_512.png")) {
            Matcher m = TILE_NAME.matcher(file);
            assertThat(m.matches()).isTrue();
            CliRun run =
                    search(
                            "-D",
                            "milvus.tiles-collection=reference",
                            "--png",
                            GPFM_TINY.resolve("tiles").resolve(file).toString(),
                            "--model",
                            GPFM_TINY.resolve("gpfm-tiny.onnx").toString(),
                            "--k",
                            "2",
                            "--json");
            assertThat(run.exitCode()).as(run.err()).isZero();
            JsonNode result = JSON.readTree(run.out());
            assertThat(result.get("query").get("model_id").asText()).isEqualTo(tinyModelId);
            JsonNode first = result.get("hits").get(0);
            assertThat(first.get("x").asLong()).isEqualTo(Long.parseLong(m.group(1)));
            assertThat(first.get("y").asLong()).isEqualTo(Long.parseLong(m.group(2)));
            assertThat(first.get("score").asDouble()).isGreaterThan(0.999);
        }
    }

    @Test
    void refusesAnUnknownTileNamingIt() {
        CliRun run =
                search(
                        "-D",
                        "milvus.tiles-collection=synthetic",
                        "--tile",
                        "slide-a",
                        "999999",
                        "0",
                        "--model-id",
                        SinkTestData.MODEL_ID);
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("INVALID_REQUEST: no tile (999999, 0) of slide slide-a");
    }

    @Test
    void refusesACollectionThatDoesNotExist() {
        CliRun run =
                search(
                        "-D",
                        "milvus.tiles-collection=absent",
                        "--tile",
                        "slide-a",
                        "0",
                        "0",
                        "--model-id",
                        SinkTestData.MODEL_ID);
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("INVALID_REQUEST: ").contains("no collection 'absent'");
    }

    @Test
    void refusesAStoredTileWithoutItsModelId() {
        CliRun run = search("--tile", "slide-a", "0", "0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--tile needs --model-id");
    }
}
