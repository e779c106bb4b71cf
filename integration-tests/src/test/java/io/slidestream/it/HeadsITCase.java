package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.cli.SlideStreamCli;
import io.slidestream.config.KafkaOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.heads.FeatureBag;
import io.slidestream.heads.StoredBags;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.heads.TridentH5;
import io.slidestream.inference.HeadCard;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.OnnxSlideHead;
import io.slidestream.inference.SlideHead;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Region;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Heads a lab trains, on the stores of a real run: the job embeds twelve synthetic slides (one
 * tissue block of 6 x 5 tiles each; six carry a planted lesion of 2 x 2 tiles, crowded dark nuclei,
 * at a different place in each), then {@code bags export} writes TRIDENT {@code .h5} bags that h5py
 * reads back equal to the table, and {@code heads train} fits a gated ABMIL on eight of them. The
 * head must call the four held-out slides right, with its highest-attention tile inside the lesion;
 * every refused training must leave nothing behind.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class HeadsITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TILE = 256;
    private static final int SLIDES_PER_CLASS = 6;

    /** Slides 0-3 of each class train the head; 4 and 5 are held out. */
    private static final int TRAINED_PER_CLASS = 4;

    @TempDir static Path dir;
    static EndToEndStack stack;
    static SlideStreamConfig job;
    static Map<String, Region> lesions = new TreeMap<>();
    static List<String> normals = new ArrayList<>();

    @BeforeEach
    void runTheJobOnce() throws Exception {
        if (stack == null) {
            runTheJob();
        }
    }

    private static void runTheJob() throws Exception {
        Path slides = Files.createDirectories(dir.resolve("slides"));
        Map<String, Path> files = new LinkedHashMap<>();
        for (int i = 0; i < SLIDES_PER_CLASS; i++) {
            // The lesion moves around the block: column i % 5, row i % 4 of the 6 x 5 tiles.
            Region lesion = new Region(TILE * (1 + i % 5), TILE * (1 + i % 4), 2 * TILE, 2 * TILE);
            String id = "lesion-" + i;
            lesions.put(id, lesion);
            files.put(id, write(slides.resolve(id + ".tiff"), 100 + i, lesion));
            String normal = "normal-" + i;
            normals.add(normal);
            files.put(normal, write(slides.resolve(normal + ".tiff"), 200 + i, null));
        }
        stack = EndToEndStack.start(dir, "heads-it", 2);
        job = stack.config();
        stack.embed(job, "heads-it", files, 30);
    }

    private static Path write(Path file, long seed, Region lesion) throws Exception {
        SyntheticSlideWriter.Builder b =
                SyntheticSlideWriter.builder()
                        .size(2048, 2048)
                        .style(Style.GENERIC_TIFF)
                        .seed(seed)
                        .tissue(TILE, TILE, TILE * 6, TILE * 5);
        if (lesion != null) {
            b.lesion(lesion.x(), lesion.y(), lesion.width(), lesion.height());
        }
        return EndToEndStack.writeSlide(b.build(), file, 30);
    }

    static CommandRun training;

    /**
     * The head trained on slides 0-3 of each class (4-fold cross-validation, seed 7), once for the
     * tests that need it.
     */
    private static synchronized Path trainedHead() throws Exception {
        Path out = dir.resolve("head-lesion");
        if (training == null) {
            Path labels = dir.resolve("lesion.csv");
            StringBuilder csv = new StringBuilder("slide_id,label\n");
            for (int i = 0; i < TRAINED_PER_CLASS; i++) {
                csv.append("lesion-").append(i).append(",\"carcinoma, focal\"\n");
                csv.append("normal-").append(i).append(",benign\n");
            }
            Files.writeString(labels, csv);
            training =
                    cli(
                            "heads",
                            "train",
                            "--labels",
                            labels.toString(),
                            "--out",
                            out.toString(),
                            "--folds",
                            "4",
                            "--seed",
                            "7");
            assertThat(training.code()).as(training.output()).isZero();
        }
        return out;
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void exportedBagsReadBackWithH5pyEqualToTheTilesTable() throws Exception {
        Path out = dir.resolve("bags");
        CommandRun export =
                cli(
                        "bags",
                        "export",
                        "--out",
                        out.toString(),
                        "--slides",
                        String.join(",", archive()));
        assertThat(export.code()).as(export.output()).isZero();
        assertThat(export.out()).contains("Wrote 12 bags (360 tiles, D=256");

        Path dump = dir.resolve("h5py.json");
        Process python =
                new ProcessBuilder(
                                "/usr/bin/python3",
                                "-c",
                                "import h5py, json, glob, os, sys\n"
                                        + "out = {}\n"
                                        + "for p in sorted(glob.glob(os.path.join(sys.argv[1],"
                                        + " '*.h5'))):\n"
                                        + "    f = h5py.File(p, 'r')\n"
                                        + "    a = {k: (v.decode() if isinstance(v, bytes) else"
                                        + " int(v)) for k, v in f['coords'].attrs.items()}\n"
                                        + "    out[os.path.basename(p)] = {'features':"
                                        + " f['features'][:].tolist(), 'features_dtype':"
                                        + " str(f['features'].dtype), 'coords':"
                                        + " f['coords'][:].tolist(), 'coords_dtype':"
                                        + " str(f['coords'].dtype), 'attrs': a, 'encoder':"
                                        + " f['features'].attrs['encoder'].decode()}\n"
                                        + "json.dump(out, open(sys.argv[2], 'w'))\n",
                                out.toString(),
                                dump.toString())
                        .redirectErrorStream(true)
                        .start();
        String log = new String(python.getInputStream().readAllBytes());
        assertThat(python.waitFor()).as(log).isZero();
        JsonNode bags = JSON.readTree(dump.toFile());
        assertThat(bags.size()).isEqualTo(12);

        // The table, read independently of the exporter: slide -> (x, y) -> embedding.
        Map<String, Map<List<Long>, List<Float>>> table = new TreeMap<>();
        String model = null;
        for (Record r :
                IcebergTableReader.rows(
                        job.iceberg(),
                        job.iceberg().tilesTable(),
                        "slide_id",
                        "model_id",
                        "x",
                        "y",
                        "embedding")) {
            @SuppressWarnings("unchecked")
            List<Float> embedding = (List<Float>) r.getField("embedding");
            table.computeIfAbsent(
                            (String) r.getField("slide_id"),
                            s ->
                                    new TreeMap<>(
                                            (a, b) ->
                                                    a.get(0).equals(b.get(0))
                                                            ? Long.compare(a.get(1), b.get(1))
                                                            : Long.compare(a.get(0), b.get(0))))
                    .put(List.of((Long) r.getField("x"), (Long) r.getField("y")), embedding);
            model = (String) r.getField("model_id");
        }
        for (var slide : table.entrySet()) {
            JsonNode bag = bags.get(TridentH5.fileName(slide.getKey()));
            assertThat(bag).as("bag of %s", slide.getKey()).isNotNull();
            assertThat(bag.path("features_dtype").asText()).isEqualTo("float32");
            assertThat(bag.path("coords_dtype").asText()).isEqualTo("int64");
            assertThat(bag.path("encoder").asText()).isEqualTo(model);
            JsonNode attrs = bag.path("attrs");
            assertThat(attrs.path("name").asText()).isEqualTo(slide.getKey());
            assertThat(attrs.path("patch_size").asInt()).isEqualTo(256);
            assertThat(attrs.path("patch_size_level0").asInt()).isEqualTo(256);
            assertThat(attrs.path("level0_magnification").asInt()).isEqualTo(20);
            assertThat(attrs.path("target_magnification").asInt()).isEqualTo(20);
            JsonNode coords = bag.path("coords");
            JsonNode features = bag.path("features");
            assertThat(coords.size()).isEqualTo(slide.getValue().size()).isEqualTo(30);
            for (int i = 0; i < coords.size(); i++) {
                List<Long> xy =
                        List.of(coords.get(i).get(0).asLong(), coords.get(i).get(1).asLong());
                List<Float> expected = slide.getValue().get(xy);
                assertThat(expected)
                        .as("%s tile at %s in the table", slide.getKey(), xy)
                        .isNotNull();
                float[] got = new float[features.get(i).size()];
                for (int j = 0; j < got.length; j++) {
                    got[j] = (float) features.get(i).get(j).asDouble();
                }
                float[] want = new float[expected.size()];
                for (int j = 0; j < want.length; j++) {
                    want[j] = expected.get(j);
                }
                assertThat(got).as("%s tile %s", slide.getKey(), xy).containsExactly(want);
            }
        }
    }

    @Test
    void aTrainedHeadFindsTheHeldOutLesionsAndLooksAtThem() throws Exception {
        Path out = trainedHead();
        CommandRun train = training;
        assertThat(train.code()).as(train.output()).isZero();
        // The figures a reader of the CI log wants: cross-validation, parity, training time.
        System.out.println(train.out());
        assertThat(train.out()).contains("4-fold cross-validation: balanced accuracy");

        HeadCard card = HeadCard.read(out);
        assertThat(card.classes()).containsExactly("benign", "carcinoma, focal");
        assertThat(card.headId()).matches("lesion-[0-9a-f]{12}");
        assertThat(card.slides()).isEqualTo(8);
        assertThat(card.dimension()).isEqualTo(256);
        assertThat(card.seed()).isEqualTo(7);
        assertThat(card.training().path("onnx_parity_max_abs").asDouble()).isBetween(0.0, 1e-5);
        JsonNode m = card.metrics();
        assertThat(m.path("balanced_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(m.path("auroc").asDouble()).isBetween(0.0, 1.0);
        assertThat(m.path("balanced_accuracy_95ci")).hasSize(2);
        int total = 0;
        for (JsonNode row : m.path("confusion_matrix")) {
            assertThat(row).hasSize(2);
            for (JsonNode n : row) {
                total += n.asInt();
            }
        }
        assertThat(total).as("out-of-fold predictions").isEqualTo(8);
        assertThat(Files.list(out).map(p -> p.getFileName().toString()).sorted().toList())
                .containsExactly("head.json", "head.onnx", "head.pt", "metrics.json");
        assertThat(dir.resolve(".head-lesion.staging")).doesNotExist();

        // `heads predict` on the held-out slides, as a lab would run it.
        List<String> heldOut = new ArrayList<>();
        for (int i = TRAINED_PER_CLASS; i < SLIDES_PER_CLASS; i++) {
            heldOut.add("lesion-" + i);
            heldOut.add("normal-" + i);
        }
        CommandRun predict =
                cli(
                        "heads",
                        "predict",
                        "--head",
                        out.toString(),
                        "--slides",
                        String.join(",", heldOut));
        assertThat(predict.code()).as(predict.output()).isZero();
        System.out.println(predict.out());
        for (String id : heldOut) {
            assertThat(predict.out())
                    .containsPattern(
                            "(?m)^"
                                    + id
                                    + " +"
                                    + (id.startsWith("lesion") ? "carcinoma, focal" : "benign")
                                    + " +[01]\\.\\d{3}  \\(\\d+, \\d+\\)$");
        }
        assertThat(predict.out()).contains("4 slides in");
        rescoreTheArchive(out, card);

        // The same slides checked here, independently, from their stored embeddings.
        InferenceConfig config =
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, out.resolve(HeadCard.MODEL_FILE))
                        .build();
        try (StoredBags store = StoredBags.open(job.iceberg());
                OnnxSlideHead head = OnnxSlideHead.open(out.resolve(HeadCard.MODEL_FILE), config)) {
            Map<String, StoredSlide> stored = store.slides().get(card.modelId());
            for (int i = TRAINED_PER_CLASS; i < SLIDES_PER_CLASS; i++) {
                for (String id : List.of("lesion-" + i, "normal-" + i)) {
                    FeatureBag bag = store.load(stored.get(id));
                    card.requireFits(bag.modelId(), bag.dimension());
                    SlideHead.Output o = head.predict(bag.features(), bag.tiles());
                    int predicted = o.logits[1] > o.logits[0] ? 1 : 0;
                    String expected = id.startsWith("lesion") ? "carcinoma, focal" : "benign";
                    assertThat(card.classes().get(predicted))
                            .as(
                                    "prediction for held-out %s, logits %s",
                                    id, List.of(o.logits[0], o.logits[1]))
                            .isEqualTo(expected);
                    if (id.startsWith("lesion")) {
                        int top = 0;
                        for (int t = 1; t < o.attention.length; t++) {
                            if (o.attention[t] > o.attention[top]) {
                                top = t;
                            }
                        }
                        long x = bag.coords()[2 * top];
                        long y = bag.coords()[2 * top + 1];
                        Region lesion = lesions.get(id);
                        assertThat(
                                        x >= lesion.x()
                                                && x < lesion.x() + lesion.width()
                                                && y >= lesion.y()
                                                && y < lesion.y() + lesion.height())
                                .as(
                                        "%s: highest attention at (%d, %d), lesion %s",
                                        id, x, y, lesion)
                                .isTrue();
                    }
                }
            }
        }
    }

    /**
     * {@code heads rescore} writes the head's rows beside the job's, leaves the job's rows as they
     * were, commits nothing the second time, and the service shows the lab's label and head.
     */
    private static void rescoreTheArchive(Path head, HeadCard card) throws Exception {
        List<Record> before = archiveRows();
        assertThat(before).hasSize(12);
        String jobHead = jobHeadId();
        assertThat(before).allMatch(r -> jobHead.equals(r.getField("head_id")));
        assertThat(jobHead).startsWith("abmil-tiny-");
        String slides = String.join(",", archive());

        CommandRun rescore = cli("heads", "rescore", "--head", head.toString(), "--slides", slides);
        assertThat(rescore.code()).as(rescore.output()).isZero();
        System.out.println(rescore.out());
        assertThat(rescore.out()).contains("Wrote 12 rows of head " + card.headId());
        List<Record> after = archiveRows();
        assertThat(after).hasSize(24);
        assertThat(after.stream().filter(r -> jobHead.equals(r.getField("head_id"))).toList())
                .as("the job's own rows, untouched")
                .usingElementComparator((a, b) -> a.equals(b) ? 0 : 1)
                .containsExactlyInAnyOrderElementsOf(before);
        for (Record r : after) {
            if (!card.headId().equals(r.getField("head_id"))) {
                continue;
            }
            String id = (String) r.getField("slide_id");
            assertThat(r.getField("predicted_label"))
                    .as("label of %s", id)
                    .isEqualTo(id.startsWith("lesion") ? "carcinoma, focal" : "benign");
            assertThat((List<?>) r.getField("tile_attention")).hasSize(30);
            assertThat((List<?>) r.getField("top_tiles")).hasSize(4);
            if (id.startsWith("lesion")) {
                Record top = (Record) ((List<?>) r.getField("top_tiles")).get(0);
                Region lesion = lesions.get(id);
                assertThat((Long) top.getField("x")).isBetween(lesion.x(), lesion.x() + TILE);
                assertThat((Long) top.getField("y")).isBetween(lesion.y(), lesion.y() + TILE);
            }
        }
        long snapshot = slidesSnapshot();
        CommandRun again = cli("heads", "rescore", "--head", head.toString(), "--slides", slides);
        assertThat(again.code()).as(again.output()).isZero();
        assertThat(again.out()).contains("Wrote 0 rows").contains("12 slides already had one");
        assertThat(slidesSnapshot()).as("no commit the second time").isEqualTo(snapshot);

        try (SlideStreamServer server = SlideStreamServer.start(job, "127.0.0.1", 0)) {
            JsonNode detail = get(server, "/api/slides/lesion-5");
            JsonNode newest = detail.path("results").get(0);
            assertThat(newest.path("head_id").asText()).isEqualTo(card.headId());
            assertThat(newest.path("predicted_label").asText()).isEqualTo("carcinoma, focal");
            assertThat(detail.path("results").get(1).path("head_id").asText()).isEqualTo(jobHead);
            assertThat(detail.path("results").get(1).path("predicted_label").asText())
                    .matches("class [01]");
            JsonNode feed = get(server, "/api/slides?q=normal-4");
            assertThat(feed.path("total").asInt()).as("one entry per slide").isEqualTo(1);
            JsonNode entry = feed.path("slides").get(0);
            assertThat(entry.path("predicted_label").asText()).isEqualTo("benign");
            // Time and latency stay the job's, not the re-score's.
            Record jobRow =
                    before.stream()
                            .filter(r -> "normal-4".equals(r.getField("slide_id")))
                            .findFirst()
                            .orElseThrow();
            assertThat(entry.path("latency_ms").asLong())
                    .isEqualTo(
                            Duration.between(
                                            (java.time.OffsetDateTime)
                                                    jobRow.getField("scanned_at"),
                                            (java.time.OffsetDateTime)
                                                    jobRow.getField("completed_at"))
                                    .toMillis());
            viewerShowsBothHeads(server, card.headId(), jobHead);
            long slidesWithResults =
                    slideRows().stream().map(r -> r.getField("slide_id")).distinct().count();
            assertThat(get(server, "/api/models").path("models").get(0).path("slides").asInt())
                    .as("slides with a result, each once")
                    .isEqualTo(slidesWithResults);
        }
    }

    /** The slides table's rows of the twelve slides of the first run. */
    private static List<Record> archiveRows() {
        List<String> ids = archive();
        return slideRows().stream().filter(r -> ids.contains(r.getField("slide_id"))).toList();
    }

    /**
     * In a real browser: the viewer shows the lab head's prediction by name, its attention highest
     * inside the lesion, and switches to the job's head with the Head selector.
     */
    private static void viewerShowsBothHeads(
            SlideStreamServer server, String labHead, String jobHead) throws Exception {
        WebDriver browser = HeadlessChrome.start();
        try {
            browser.get("http://127.0.0.1:" + server.port() + "/#viewer/lesion-5");
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(
                    d -> "lesion-5".equals(d.findElement(By.id("osd")).getAttribute("data-ready")));
            WebElement prediction = browser.findElement(By.cssSelector("#prediction span"));
            assertThat(prediction.getText()).startsWith("carcinoma, focal (p = ");
            assertThat(prediction.getAttribute("data-head")).isEqualTo(labHead);
            Select heads = new Select(browser.findElement(By.id("viewer-head")));
            assertThat(heads.getOptions())
                    .extracting(WebElement::getText)
                    .containsExactly(labHead, jobHead);
            // The most attended tile of the lab's head lies in the lesion.
            WebElement top =
                    browser
                            .findElements(By.cssSelector("#layer-attention rect.attention-cell"))
                            .stream()
                            .max(
                                    java.util.Comparator.comparingDouble(
                                            r ->
                                                    Double.parseDouble(
                                                            r.getAttribute("fill-opacity"))))
                            .orElseThrow();
            Region lesion = lesions.get("lesion-5");
            assertThat(Long.parseLong(top.getAttribute("x")))
                    .isBetween(lesion.x(), lesion.x() + TILE);
            assertThat(Long.parseLong(top.getAttribute("y")))
                    .isBetween(lesion.y(), lesion.y() + TILE);
            heads.selectByValue(jobHead);
            wait.until(
                    d ->
                            jobHead.equals(
                                    d.findElement(By.cssSelector("#prediction span"))
                                            .getAttribute("data-head")));
            assertThat(browser.findElement(By.cssSelector("#prediction span")).getText())
                    .matches("class [01] \\(p = [01]\\.\\d\\d\\)");
            assertThat(browser.findElements(By.cssSelector("#layer-attention rect.attention-cell")))
                    .hasSize(30);
        } finally {
            browser.quit();
        }
    }

    private static List<Record> slideRows() {
        return IcebergTableReader.rows(job.iceberg(), job.iceberg().slidesTable());
    }

    private static long slidesSnapshot() {
        return io.slidestream.sink.IcebergCatalogs.withTable(
                job.iceberg(), job.iceberg().slidesTable(), t -> t.currentSnapshot().snapshotId());
    }

    private static JsonNode get(SlideStreamServer server, String path) throws Exception {
        var response =
                java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(
                                                java.net.URI.create(
                                                        "http://127.0.0.1:" + server.port() + path))
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /**
     * {@code heads deploy} into a running job: the next slide gets the head's prediction beside the
     * job's; after a stop with savepoint and a restore (the announcement is not read again: the
     * source resumes behind it) the head is still live; {@code heads retire} ends it.
     */
    @Test
    void aDeployedHeadPredictsInTheRunningJobAndSurvivesARestore() throws Exception {
        Path head = trainedHead();
        HeadCard card = HeadCard.read(head);
        Path slides = Files.createDirectories(dir.resolve("live-slides"));
        Map<String, String> keys =
                Map.of(
                        KafkaOptions.GROUP_ID.key(), "heads-live",
                        KafkaOptions.TRANSACTIONAL_ID_PREFIX.key(), "heads-live",
                        KafkaOptions.STARTING_OFFSETS.key(), "LATEST");
        SlideStreamConfig live = stack.config(keys);
        JobClient running = EndToEndStack.submit(live, "heads-live");
        try {
            CommandRun deploy = cli("heads", "deploy", head.toString());
            assertThat(deploy.code()).as(deploy.output()).isZero();
            assertThat(deploy.out())
                    .contains("Head " + card.headId() + " (benign, carcinoma, focal)");
            awaitHeadsRead(running, 1);

            publish(slides, "live-lesion-1", 301, lesions.get("lesion-1"));
            awaitPrediction(running, "live-lesion-1", card.headId(), "carcinoma, focal");

            String savepoint =
                    running.stopWithSavepoint(
                                    false,
                                    dir.resolve("savepoints").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
            running = EndToEndStack.resume(live, "heads-live", savepoint);
            publish(slides, "live-normal-2", 302, null);
            awaitPrediction(running, "live-normal-2", card.headId(), "benign");

            CommandRun retire = cli("heads", "retire", card.headId());
            assertThat(retire.code()).as(retire.output()).isZero();
            awaitHeadsRead(running, 2);
            publish(slides, "live-lesion-3", 303, lesions.get("lesion-2"));
            JobClient job = running;
            EndToEndStack.awaitWhileRunning(
                    job,
                    Duration.ofMinutes(2),
                    "the job's result of live-lesion-3",
                    () -> !predictions("live-lesion-3").isEmpty());
            assertThat(predictions("live-lesion-3"))
                    .as("heads of live-lesion-3 after the retirement")
                    .containsOnlyKeys(jobHeadId());
        } finally {
            EndToEndStack.cancel(running);
        }
    }

    /** The head id the job records for its own slide head (the fixture's ABMIL, no card). */
    private static String jobHeadId() {
        return io.slidestream.inference.HeadCard.identify(
                        job.inference().slideHeadPath().orElseThrow(), 2)
                .headId();
    }

    /** The twelve slides of the first run, in id order. */
    private static List<String> archive() {
        List<String> ids = new ArrayList<>(lesions.keySet());
        ids.addAll(normals);
        return ids.stream().sorted().toList();
    }

    private static void publish(Path folder, String id, long seed, Region lesion) throws Exception {
        Path file = write(folder.resolve(id + ".tiff"), seed, lesion);
        try (SlidePublisher publisher = stack.publisher("heads-live")) {
            publisher.publish(
                    SlideScanned.newBuilder()
                            .setSlideId(id)
                            .setUri(file.toString())
                            .setScannedAt(Instant.now())
                            .setScannerId("heads-live")
                            .build());
        }
    }

    /**
     * Waits until a completed checkpoint covers the first {@code records} announcements: the heads
     * source commits its offsets to Kafka only then, after the live-heads operator has put them
     * into its state.
     */
    private static void awaitHeadsRead(JobClient job, long records) {
        EndToEndStack.awaitWhileRunning(
                job,
                Duration.ofMinutes(2),
                records + " head announcement(s) in a completed checkpoint",
                () -> committedHeadsOffset() >= records);
    }

    /** The heads source's committed offsets, summed over the topic's partitions. */
    private static long committedHeadsOffset() {
        try (Admin admin =
                Admin.create(
                        Map.of(
                                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                                stack.bootstrapServers()))) {
            return admin
                    .listConsumerGroupOffsets("heads-live-heads")
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS)
                    .values()
                    .stream()
                    .filter(java.util.Objects::nonNull)
                    .mapToLong(o -> o.offset())
                    .sum();
        } catch (Exception e) {
            throw new IllegalStateException("could not read the heads source's offsets", e);
        }
    }

    private static void awaitPrediction(
            JobClient job, String slideId, String headId, String label) {
        EndToEndStack.awaitWhileRunning(
                job,
                Duration.ofMinutes(2),
                "the prediction of head " + headId + " for " + slideId,
                () -> predictions(slideId).containsKey(headId));
        Map<String, String> labels = predictions(slideId);
        assertThat(labels).as("heads of %s", slideId).hasSize(2).containsEntry(headId, label);
    }

    /** Head id to predicted label of {@code slideId}'s rows in the slides table. */
    private static Map<String, String> predictions(String slideId) {
        Map<String, String> labels = new TreeMap<>();
        for (Record r : slideRows()) {
            if (slideId.equals(r.getField("slide_id"))) {
                labels.put((String) r.getField("head_id"), (String) r.getField("predicted_label"));
            }
        }
        return labels;
    }

    @Test
    void refusedTrainingsSayWhyAndWriteNothing() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(
                "slide_id,label\nlesion-0,a\nnormal-0,b\nlesion-1,a\nnormal-1,b\nghost-1,a\nghost-2,b\n",
                "names 2 slide(s) with no embeddings of model");
        cases.put("slide_id,label\nlesion-0,a\nnormal-0,a\n", "has one class only ('a')");
        cases.put(
                "slide_id,label\nlesion-0,a\nlesion-1,a\nnormal-0,b\n",
                "these have fewer: 'b' (1)");
        cases.put(
                "slide,label\nlesion-0,a\n", "its header must name the columns slide_id and label");
        cases.put("slide_id,label\nlesion-0,a\nlesion-0,b\n", "slide 'lesion-0' is labelled both");
        int n = 0;
        for (var c : cases.entrySet()) {
            Path labels = dir.resolve("bad-" + n + ".csv");
            Files.writeString(labels, c.getKey());
            Path out = dir.resolve("refused-" + n++);
            CommandRun train =
                    cli("heads", "train", "--labels", labels.toString(), "--out", out.toString());
            assertThat(train.code()).as(train.output()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
            assertThat(train.err()).contains("INVALID_REQUEST").contains(c.getValue());
            assertThat(out).as("nothing written for %s", c.getValue()).doesNotExist();
        }
        Path labels = dir.resolve("bad-0.csv");
        CommandRun other =
                cli(
                        "heads",
                        "train",
                        "--labels",
                        labels.toString(),
                        "--out",
                        dir.resolve("refused-model").toString(),
                        "--model-id",
                        "gpfm-other-123");
        assertThat(other.err()).contains("holds no embeddings of model 'gpfm-other-123'");
        assertThat(dir.resolve("refused-model")).doesNotExist();
    }

    @Test
    void aHeadIsRefusedForAnotherModelOrDimension() {
        HeadCard card =
                new HeadCard(
                        "t-0",
                        "t",
                        List.of("a", "b"),
                        "gpfm-tiny-x",
                        256,
                        4,
                        0,
                        JSON.createObjectNode(),
                        JSON.createObjectNode());
        card.requireFits("gpfm-tiny-x", 256);
        for (var other : List.of(Map.entry("gpfm-large-y", 256), Map.entry("gpfm-tiny-x", 1024))) {
            try {
                card.requireFits(other.getKey(), other.getValue());
                throw new AssertionError("a head for gpfm-tiny-x fitted " + other);
            } catch (SlideStreamException e) {
                assertThat(e.getMessage())
                        .contains("was trained on embeddings of model gpfm-tiny-x");
            }
        }
    }

    /** Runs a command on this test's stores (its Iceberg, aggregate and Kafka keys as -D). */
    private static CommandRun cli(String... args) {
        return CommandRun.of(stack.keyArguments("iceberg.", "aggregate.", "kafka."), args);
    }
}
