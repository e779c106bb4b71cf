package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.bench.RetrievalEvaluation;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.SingleTileEmbedder;
import io.slidestream.schemas.ErrorCode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream eval retrieval DIR --model M}: embeds the labelled tiles of {@code DIR/train}
 * and {@code DIR/test} (one subfolder per class in each; PNG, JPEG, TIFF or BMP files) with the
 * model, preprocessed exactly as the job preprocesses a tile, and runs {@link RetrievalEvaluation}
 * (GPFM's ROI-retrieval protocol): macro top-1/3/5 accuracy with 95% bootstrap intervals.
 */
@Command(
        name = "retrieval",
        mixinStandardHelpOptions = true,
        description =
                "ROI retrieval on labelled tiles (DIR/train/<class>/*, DIR/test/<class>/*): z-score"
                        + " on train, Euclidean k-NN (k = classes), rank-weighted vote, macro"
                        + " top-1/3/5 accuracy with 1,000 bootstraps.")
final class EvalRetrievalCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Folder with train/ and test/ class subfolders.")
    Path dir;

    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "Tile model.")
    Path model;

    @Option(names = "--bootstraps", defaultValue = "1000", description = "Bootstrap resamples.")
    int bootstraps;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the bootstrap.")
    long seed;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        List<String> classes = classes(dir.resolve("train"));
        PrintWriter out = spec.commandLine().getOut();
        List<float[]> train = new ArrayList<>();
        List<Integer> trainLabels = new ArrayList<>();
        List<float[]> test = new ArrayList<>();
        List<Integer> testLabels = new ArrayList<>();
        String modelId;
        try (SingleTileEmbedder embedder = SingleTileEmbedder.open(model)) {
            modelId = embedder.modelId();
            embed(embedder, dir.resolve("train"), classes, train, trainLabels);
            embed(embedder, dir.resolve("test"), classes, test, testLabels);
        }
        int[] topNs = {1, 3, 5};
        List<RetrievalEvaluation.Accuracy> accuracies =
                RetrievalEvaluation.evaluate(
                        train.toArray(new float[0][]),
                        trainLabels.stream().mapToInt(Integer::intValue).toArray(),
                        test.toArray(new float[0][]),
                        testLabels.stream().mapToInt(Integer::intValue).toArray(),
                        classes.size(),
                        topNs,
                        bootstraps,
                        seed);
        out.printf(
                Locale.ROOT,
                "ROI retrieval, model %s: %d classes %s, %d train and %d test tiles%n",
                modelId,
                classes.size(),
                classes,
                train.size(),
                test.size());
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("model_id", modelId);
        root.put("train_tiles", train.size());
        root.put("test_tiles", test.size());
        root.put("bootstraps", bootstraps);
        ArrayNode classNames = root.putArray("classes");
        classes.forEach(classNames::add);
        ArrayNode list = root.putArray("macro_accuracy");
        for (RetrievalEvaluation.Accuracy a : accuracies) {
            out.printf(
                    Locale.ROOT,
                    "  top-%d macro accuracy %.4f (95%% bootstrap interval %.4f - %.4f)%n",
                    a.topN(),
                    a.value(),
                    a.low(),
                    a.high());
            ObjectNode o = list.addObject();
            o.put("top", a.topN());
            o.put("value", a.value());
            o.put("ci_low", a.low());
            o.put("ci_high", a.high());
        }
        out.flush();
        if (summaryJson != null) {
            json.enable(SerializationFeature.INDENT_OUTPUT).writeValue(summaryJson.toFile(), root);
        }
        return 0;
    }

    /** The class subfolders of {@code train}, sorted: their names are the labels. */
    private static List<String> classes(Path train) throws IOException {
        if (!Files.isDirectory(train)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    train
                            + " is not a folder: give a folder with train/ and test/, each with one"
                            + " subfolder of tiles per class");
        }
        try (Stream<Path> dirs = Files.list(train)) {
            List<String> classes =
                    dirs.filter(Files::isDirectory)
                            .map(p -> p.getFileName().toString())
                            .sorted()
                            .toList();
            if (classes.size() < 2) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        train + " has " + classes.size() + " class folders; retrieval needs two");
            }
            return classes;
        }
    }

    private static void embed(
            SingleTileEmbedder embedder,
            Path split,
            List<String> classes,
            List<float[]> vectors,
            List<Integer> labels)
            throws IOException {
        if (!Files.isDirectory(split)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, split + " is not a folder of class subfolders");
        }
        try (Stream<Path> dirs = Files.list(split)) {
            for (Path classDir : dirs.filter(Files::isDirectory).sorted().toList()) {
                int label = classes.indexOf(classDir.getFileName().toString());
                if (label < 0) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_REQUEST,
                            classDir + " is a class the train split does not have " + classes);
                }
                try (Stream<Path> files = Files.list(classDir)) {
                    for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                        BufferedImage image = ImageIO.read(file.toFile());
                        if (image == null) {
                            throw new SlideStreamException(
                                    ErrorCode.UNSUPPORTED_FORMAT,
                                    file + " is not an image (PNG, JPEG, TIFF or BMP)");
                        }
                        vectors.add(embedder.embed(image));
                        labels.add(label);
                    }
                }
            }
        }
    }
}
