package io.slidestream.heads;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.inference.HeadCard;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.ModelCard;
import io.slidestream.inference.OnnxSlideHead;
import io.slidestream.inference.SlideHead;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code heads train}: checks a lab's labels against the stored bags of one model, exports those
 * bags, trains a gated ABMIL on them with {@code train_head.py} (PyTorch, shipped in this jar, run
 * by the system Python), checks the exported ONNX head on ONNX Runtime against PyTorch's own
 * forward pass on every bag, and only then writes {@code head.onnx}, {@code head.pt}, {@code
 * metrics.json} and the card {@code head.json} into the output folder. Everything before that
 * happens in a staging folder beside it, deleted on success and on failure: a refused or failed
 * training writes nothing.
 */
public final class HeadTrainer {

    /** Largest difference allowed between ONNX Runtime's and PyTorch's outputs of the head. */
    public static final double PARITY_TOLERANCE = 1e-5;

    private static final Pattern TASK = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String SCRIPT = "train_head.py";
    private static final List<String> OUTPUTS =
            List.of(HeadCard.MODEL_FILE, "head.pt", "metrics.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to train. {@code task} null: the labels file's name without its extension. */
    public record Request(
            Path labels,
            Path out,
            String task,
            String modelId,
            int folds,
            long seed,
            int epochs,
            Path python) {}

    /** The head written, its folder, ONNX-vs-PyTorch difference and the training time. */
    public record Result(HeadCard card, Path dir, double parityMaxAbs, Duration took) {}

    private HeadTrainer() {}

    public static Result train(StoredBags store, Request request, PrintWriter log) {
        HeadLabels labels = HeadLabels.read(request.labels());
        String task = task(request);
        Map<String, Map<String, StoredSlide>> byModel = store.slides();
        String model = StoredBags.chooseModel(byModel, request.modelId(), store.where());
        List<StoredSlide> slides = checkLabels(labels, byModel.get(model), model, store.where());
        List<String> classes = labels.classes();
        if (request.folds() < 2 || request.folds() > slides.size()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--folds "
                            + request.folds()
                            + ": cross-validation needs between 2 and "
                            + slides.size()
                            + " folds for "
                            + slides.size()
                            + " slides");
        }
        if (request.epochs() < 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "--epochs " + request.epochs() + " must be >= 1");
        }
        checkPython(request.python());
        Path out = request.out().toAbsolutePath().normalize();
        Path staging = out.resolveSibling("." + out.getFileName() + ".staging");
        Instant started = Instant.now();
        try {
            deleteTree(staging);
            Path bags = Files.createDirectories(staging.resolve("bags"));
            log.printf(
                    "Exporting %d bags of model %s for task %s (%s) ...%n",
                    slides.size(),
                    model,
                    task,
                    labels.counts().entrySet().stream()
                            .map(e -> e.getKey() + ": " + e.getValue())
                            .collect(Collectors.joining(", ")));
            log.flush();
            BagExport.Result exported = BagExport.write(store, slides, bags, bag -> {});
            ObjectNode spec = JSON.createObjectNode();
            classes.forEach(spec.putArray("classes")::add);
            ObjectNode bySlide = spec.putObject("slides");
            for (StoredSlide s : slides) {
                bySlide.put(
                        TridentH5.fileName(s.slideId()),
                        classes.indexOf(labels.bySlide().get(s.slideId())));
            }
            Path specFile = staging.resolve("labels.json");
            JSON.writeValue(specFile.toFile(), spec);
            Path script = extractScript(staging);
            log.printf(
                    "Training a gated ABMIL (%d-fold cross-validation, then all %d slides, %d"
                            + " epochs, seed %d) ...%n",
                    request.folds(), slides.size(), request.epochs(), request.seed());
            log.flush();
            Path work = Files.createDirectories(staging.resolve("head"));
            runPython(
                    request.python(),
                    staging.resolve("train.log"),
                    script.toString(),
                    "train",
                    "--bags",
                    bags.toString(),
                    "--labels",
                    specFile.toString(),
                    "--out",
                    work.toString(),
                    "--folds",
                    Integer.toString(request.folds()),
                    "--seed",
                    Long.toString(request.seed()),
                    "--epochs",
                    Integer.toString(request.epochs()));
            double parity =
                    parity(request.python(), script, bags, work, exported.dimension(), classes);
            JsonNode metrics = JSON.readTree(work.resolve("metrics.json").toFile());
            ObjectNode training = JSON.createObjectNode();
            training.put("trained_at", Instant.now().toString());
            training.put("folds", request.folds());
            training.put("tiles", exported.tiles());
            training.put("onnx_parity_max_abs", parity);
            training.set("recipe", metrics.path("recipe"));
            training.set("framework", metrics.path("framework"));
            training.set("seconds", metrics.path("training_seconds"));
            ObjectNode counts = training.putObject("slides_per_class");
            labels.counts().forEach(counts::put);
            HeadCard card =
                    new HeadCard(
                            task
                                    + "-"
                                    + ModelCard.sha256(work.resolve(HeadCard.MODEL_FILE))
                                            .substring(0, ModelCard.ID_CHECKSUM_CHARS),
                            task,
                            classes,
                            model,
                            exported.dimension(),
                            slides.size(),
                            request.seed(),
                            metrics.path("cross_validation"),
                            training);
            Files.createDirectories(out);
            for (String name : OUTPUTS) {
                Files.move(
                        work.resolve(name), out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
            card.write(out);
            return new Result(card, out, parity, Duration.between(started, Instant.now()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(staging);
        }
    }

    /** The labelled slides' latest scans, or an error naming what does not fit. */
    static List<StoredSlide> checkLabels(
            HeadLabels labels, Map<String, StoredSlide> stored, String model, String where) {
        List<String> missing =
                labels.bySlide().keySet().stream()
                        .filter(s -> !stored.containsKey(s))
                        .sorted()
                        .toList();
        if (!missing.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "labels file "
                            + labels.file()
                            + " names "
                            + missing.size()
                            + " slide(s) with no embeddings of model "
                            + model
                            + " in "
                            + where
                            + ": "
                            + String.join(", ", missing.subList(0, Math.min(50, missing.size())))
                            + (missing.size() > 50 ? ", ..." : "")
                            + ". Run the job on them first, or remove them from the labels");
        }
        Map<String, Integer> counts = labels.counts();
        if (counts.size() < 2) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "labels file "
                            + labels.file()
                            + " has one class only ('"
                            + counts.keySet().iterator().next()
                            + "'): a head needs slides of at least two classes");
        }
        List<String> few =
                counts.entrySet().stream()
                        .filter(e -> e.getValue() < 2)
                        .map(e -> "'" + e.getKey() + "' (" + e.getValue() + ")")
                        .toList();
        if (!few.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "labels file "
                            + labels.file()
                            + ": every class needs at least two slides for cross-validation;"
                            + " these have fewer: "
                            + String.join(", ", few));
        }
        return labels.bySlide().keySet().stream().sorted().map(stored::get).toList();
    }

    private static String task(Request request) {
        String task = request.task();
        if (task == null) {
            String name = request.labels().getFileName().toString();
            int dot = name.lastIndexOf('.');
            task = dot > 0 ? name.substring(0, dot) : name;
        }
        if (!TASK.matcher(task).matches()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "task name '"
                            + task
                            + "' must be 1-64 letters, digits, '.', '_' or '-' (it is part of the"
                            + " head id); name it with --task");
        }
        return task;
    }

    /**
     * Runs the trained head on every bag with ONNX Runtime and with PyTorch; the largest absolute
     * difference of any logit or attention weight. Fails with {@code MODEL_INVALID} above {@link
     * #PARITY_TOLERANCE} or when the ONNX head does not read D values or give the classes.
     */
    static double parity(
            Path python, Path script, Path bags, Path head, int dimension, List<String> classes)
            throws IOException {
        Path reference = head.resolve("torch-outputs.json");
        runPython(
                python,
                head.resolve("forward.log"),
                script.toString(),
                "forward",
                "--bags",
                bags.toString(),
                "--head",
                head.resolve("head.pt").toString(),
                "--out",
                reference.toString());
        JsonNode torch = JSON.readTree(reference.toFile());
        InferenceConfig config =
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, head.resolve(HeadCard.MODEL_FILE))
                        .build();
        double max = 0;
        try (OnnxSlideHead onnx = OnnxSlideHead.open(head.resolve(HeadCard.MODEL_FILE), config)) {
            if (onnx.dimension() != dimension || onnx.classes() != classes.size()) {
                throw new SlideStreamException(
                        ErrorCode.MODEL_INVALID,
                        "the exported head reads D="
                                + onnx.dimension()
                                + " and gives "
                                + onnx.classes()
                                + " classes; the bags have D="
                                + dimension
                                + " and the labels "
                                + classes.size()
                                + " classes");
            }
            var it = torch.fields();
            while (it.hasNext()) {
                var e = it.next();
                float[][] features = TridentH5.readFeatures(bags.resolve(e.getKey()));
                float[] flat = new float[features.length * dimension];
                for (int i = 0; i < features.length; i++) {
                    System.arraycopy(features[i], 0, flat, i * dimension, dimension);
                }
                SlideHead.Output out = onnx.predict(flat, features.length);
                max = Math.max(max, maxAbs(out.logits, e.getValue().get("logits")));
                max = Math.max(max, maxAbs(out.attention, e.getValue().get("attention")));
            }
        }
        if (!(max <= PARITY_TOLERANCE)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "the exported ONNX head differs from PyTorch's forward pass by "
                            + max
                            + " (allowed "
                            + PARITY_TOLERANCE
                            + "): nothing written");
        }
        return max;
    }

    private static double maxAbs(float[] onnx, JsonNode torch) {
        if (torch.size() != onnx.length) {
            return Double.POSITIVE_INFINITY;
        }
        double max = 0;
        for (int i = 0; i < onnx.length; i++) {
            max = Math.max(max, Math.abs(onnx[i] - torch.get(i).asDouble()));
        }
        return max;
    }

    /** Fails with a clear message when {@code python} lacks torch, onnx, h5py or numpy. */
    static void checkPython(Path python) {
        String needs = "import torch, onnx, h5py, numpy";
        boolean ok;
        try {
            Process p =
                    new ProcessBuilder(python.toString(), "-c", needs)
                            .redirectErrorStream(true)
                            .start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "interrupted", e);
        }
        if (!ok) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "training runs on "
                            + python
                            + " with torch, onnx, h5py and numpy, which it lacks: run"
                            + " tools/setup.sh (or `sudo apt-get install python3-torch python3-onnx"
                            + " python3-h5py`), or name another interpreter with --python");
        }
    }

    private static void runPython(Path python, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(python.toString());
        command.addAll(List.of(args));
        Process p =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "training interrupted", e);
        }
        if (code != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            throw new SlideStreamException(
                    ErrorCode.INTERNAL,
                    SCRIPT
                            + " "
                            + args[1]
                            + " failed (exit "
                            + code
                            + "); its last lines:\n"
                            + String.join(
                                    "\n",
                                    lines.subList(Math.max(0, lines.size() - 15), lines.size())));
        }
    }

    private static Path extractScript(Path dir) throws IOException {
        Path script = dir.resolve(SCRIPT);
        try (InputStream in = HeadTrainer.class.getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT + " is missing from the heads jar");
            }
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        return script;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }
}
