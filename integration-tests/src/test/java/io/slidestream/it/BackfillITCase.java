package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.service.vector.request.QueryReq;
import io.slidestream.cli.SlideStreamCli;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.inference.ModelCard;
import io.slidestream.job.BackfillJob;
import io.slidestream.local.Backfill;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.sink.CurrentModel;
import io.slidestream.sink.IcebergTableReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new model over the archive: the live job embeds four slides with the fixture model (A); one
 * slide file then disappears; a backfill with a copy of the model with other weights (B) is killed
 * after its first committed slide and run again through the command line, then a third time. In the
 * end B holds exactly the three remaining slides (tile rows per slide as A, no tile twice, as many
 * vectors in Milvus - counted by the SDK's own query), the lost slide has one {@code
 * SLIDE_NOT_FOUND} for B, A's rows are untouched, and {@code models promote} switches the current
 * model.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BackfillITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    @TempDir static Path dir;

    @Test
    void aSecondModelEmbedsTheArchiveExactlyOnceBesideTheFirst() throws Exception {
        Path slides = Files.createDirectories(dir.resolve("slides"));
        Map<String, Path> files = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            files.put(
                    "archive-" + i,
                    EndToEndStack.writeSlide(
                            EndToEndStack.sixByFive(300 + i),
                            slides.resolve("archive-" + i + ".tiff"),
                            30));
        }
        try (EndToEndStack stack = EndToEndStack.start(dir, "backfill-it", 2)) {
            SlideStreamConfig job = stack.config();
            String modelA = ModelCard.idOf(job.inference().modelPath());
            stack.embed(job, "backfill-it", files, 30);
            Map<String, Long> tilesOfA = tilesPerSlide(job, modelA);
            assertThat(tilesOfA).hasSize(4).allSatisfy((slide, n) -> assertThat(n).isEqualTo(30));

            Files.delete(files.get("archive-3"));
            Path modelB =
                    otherWeights(job.inference().modelPath(), dir.resolve("gpfm-tiny-b.onnx"));
            String idB = ModelCard.idOf(modelB);
            assertThat(idB).isNotEqualTo(modelA);

            // A backfill that dies after its first committed slide: the job is cancelled, as a
            // killed process leaves it, without a final checkpoint.
            SlideStreamConfig backfill =
                    stack.config(
                            Map.of(
                                    "inference.model-path", modelB.toString(),
                                    "inference.slide-head-path", "",
                                    "inference.tile-head-path", "",
                                    "aggregate.live-heads", "false",
                                    "tiling.max-active-slides", "1",
                                    "job.parallelism", "1"));
            List<SlideScanned> archive = Backfill.storedSlides(job.iceberg(), null);
            assertThat(archive).extracting(SlideScanned::getSlideId).hasSize(4);
            JobClient killed =
                    BackfillJob.start(EndToEndStack.environment(backfill), backfill, archive);
            EndToEndStack.awaitWhileRunning(
                    killed,
                    Duration.ofMinutes(3),
                    "a first slide of the backfill committed",
                    () -> Backfill.plan(job.iceberg(), idB, archive).alreadyDone() >= 1);
            EndToEndStack.cancel(killed);

            CommandRun resumed = backfill(stack, modelB);
            assertThat(resumed.code()).as(resumed.output()).isZero();
            assertThat(resumed.err()).containsPattern("4 slides, [1-4] already done");
            assertThat(resumed.out())
                    .contains("model " + idB + ": 3 slides with a result, 1 errors, 90 tile rows");

            CommandRun again = backfill(stack, modelB);
            assertThat(again.code()).as(again.output()).isZero();
            assertThat(again.err()).contains("4 slides, 4 already done, 0 to embed");

            Map<String, Long> tilesOfB = tilesPerSlide(job, idB);
            assertThat(tilesOfB)
                    .isEqualTo(Map.of("archive-0", 30L, "archive-1", 30L, "archive-2", 30L));
            assertThat(tilesPerSlide(job, modelA)).as("model A untouched").isEqualTo(tilesOfA);
            List<Record> tileRows =
                    IcebergTableReader.rows(
                            job.iceberg(), job.iceberg().tilesTable(), "tile_key", "model_id");
            assertThat(tileRows.stream().map(r -> r.getField("tile_key")).distinct().count())
                    .as("no tile twice")
                    .isEqualTo(tileRows.size());
            List<Record> errors =
                    IcebergTableReader.rows(
                            job.iceberg(),
                            job.iceberg().errorsTable(),
                            "slide_id",
                            "code",
                            "model_id");
            assertThat(errors)
                    .filteredOn(r -> idB.equals(r.getField("model_id")))
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.getField("slide_id")).isEqualTo("archive-3");
                                assertThat(r.getField("code")).isEqualTo("SLIDE_NOT_FOUND");
                            });
            assertThat(milvusCount(job, idB)).as("B's vectors").isEqualTo(90);
            assertThat(milvusCount(job, modelA)).as("A's vectors").isEqualTo(120);

            CommandRun list = cli(stack, "models", "list");
            assertThat(list.out()).containsPattern(idB + " +3 +3 +1 +90 +90");
            CommandRun promote = cli(stack, "models", "promote", idB);
            assertThat(promote.code()).as(promote.output()).isZero();
            assertThat(CurrentModel.read(job.iceberg())).contains(idB);
            assertThat(cli(stack, "models", "list").out()).containsPattern(idB + " .* yes");
            CommandRun unknown = cli(stack, "models", "promote", "no-such-model");
            assertThat(unknown.code()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
            assertThat(unknown.err()).contains("has no results in the stores");
            assertThat(CurrentModel.read(job.iceberg())).contains(idB);

            // The service embeds with A, but its searches follow the current model.
            try (SlideStreamServer server = SlideStreamServer.start(job, "127.0.0.1", 0)) {
                JsonNode models = getJson(server, "/api/models");
                assertThat(models.path("served_model_id").asText()).isEqualTo(modelA);
                assertThat(models.path("current_model_id").asText()).isEqualTo(idB);
                JsonNode hits =
                        getJson(server, "/api/search/tile?slide_id=archive-0&x=256&y=256&k=3");
                assertThat(hits.path("query").path("model_id").asText()).isEqualTo(idB);
                assertThat(hits.path("hits").get(0).path("slide_id").asText())
                        .isEqualTo("archive-0");
                JsonNode asked =
                        getJson(
                                server,
                                "/api/search/tile?slide_id=archive-0&x=256&y=256&k=3&model_id="
                                        + modelA);
                assertThat(asked.path("query").path("model_id").asText()).isEqualTo(modelA);
            }

            CommandRun current = cli(stack, "models", "drop", idB, "--yes");
            assertThat(current.code()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
            assertThat(current.err()).contains("is the current model");
            CommandRun unconfirmed = cli(stack, "models", "drop", modelA);
            assertThat(unconfirmed.code()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
            assertThat(unconfirmed.err()).contains("would be removed; add --yes");
            assertThat(tilesPerSlide(job, modelA)).isEqualTo(tilesOfA);
            CommandRun drop = cli(stack, "models", "drop", modelA, "--yes");
            assertThat(drop.code()).as(drop.output()).isZero();
            assertThat(tilesPerSlide(job, modelA)).isEmpty();
            assertThat(milvusCount(job, modelA)).isZero();
            assertThat(tilesPerSlide(job, idB)).as("B untouched").isEqualTo(tilesOfB);
            assertThat(milvusCount(job, idB)).isEqualTo(90);
        }
    }

    private static JsonNode getJson(SlideStreamServer server, String path) throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(
                                                URI.create(
                                                        "http://127.0.0.1:" + server.port() + path))
                                        .timeout(Duration.ofSeconds(30))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new ObjectMapper().readTree(response.body());
    }

    private static Map<String, Long> tilesPerSlide(SlideStreamConfig job, String modelId) {
        List<Record> rows =
                IcebergTableReader.rows(
                        job.iceberg(), job.iceberg().tilesTable(), "slide_id", "model_id");
        return EndToEndStack.countBySlide(
                rows.stream().filter(r -> modelId.equals(r.getField("model_id"))).toList());
    }

    /** Vectors of {@code modelId} in the tiles collection, counted by the Milvus SDK itself. */
    private static long milvusCount(SlideStreamConfig job, String modelId) {
        MilvusClientV2 client =
                new MilvusClientV2(ConnectConfig.builder().uri(job.milvus().uri()).build());
        try {
            return ((Number)
                            client.query(
                                            QueryReq.builder()
                                                    .collectionName(job.milvus().tilesCollection())
                                                    .filter("model_id == \"" + modelId + "\"")
                                                    .outputFields(List.of("count(*)"))
                                                    .consistencyLevel(ConsistencyLevel.STRONG)
                                                    .build())
                                    .getQueryResults()
                                    .get(0)
                                    .getEntity()
                                    .get("count(*)"))
                    .longValue();
        } finally {
            client.close();
        }
    }

    /** A copy of {@code model} with its patch embedding negated (Debian's python3-onnx). */
    private static Path otherWeights(Path model, Path out) throws Exception {
        String script =
                "import sys, onnx\n"
                        + "from onnx import numpy_helper\n"
                        + "m = onnx.load(sys.argv[1])\n"
                        + "for t in m.graph.initializer:\n"
                        + "    if t.name == 'patch_embed.proj.weight':\n"
                        + "        t.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(t),"
                        + " t.name))\n"
                        + "onnx.save(m, sys.argv[2])\n";
        Process p =
                new ProcessBuilder(
                                "/usr/bin/python3", "-c", script, model.toString(), out.toString())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return out;
    }

    private static CommandRun backfill(EndToEndStack stack, Path model) {
        return cli(
                stack,
                "backfill",
                "--model",
                model.toString(),
                "-D",
                "tiling.max-active-slides=1",
                "-D",
                "job.parallelism=1");
    }

    /** Runs a command on this test's stores (its Iceberg, Milvus, tiling and job keys as -D). */
    private static CommandRun cli(EndToEndStack stack, String... args) {
        return CommandRun.of(
                stack.keyArguments("iceberg.", "milvus.", "aggregate.tissue", "job.checkpoint"),
                args);
    }
}
