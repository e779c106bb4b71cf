package io.slidestream.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.ModelCard;
import io.slidestream.inference.TileInference;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream embed (SLIDE | TILE.png ...) --model M.onnx}: embeds the tissue tiles of a
 * slide, or a list of tile images, with an ONNX tile model and writes one JSON line per tile.
 *
 * <p>A slide goes through the tile plan ({@link PlannedSlide#plan}); its tissue tiles are read with
 * OpenSlide at the plan's level and read size by {@code --readers} threads, preprocessed ({@link
 * TilePreprocessor}, sized from the model's input, normalisation from the model card when there is
 * one, ImageNet otherwise) and embedded by the micro-batching {@link TileInferenceEngine}, so
 * reading overlaps inference; memory is bounded by a window of tiles in flight (see {@link
 * OrderedTileEmbedder}). Lines come in plan order, to {@code --out} (written to a {@code .part}
 * file and renamed when complete, so a failed run leaves no partial output) or standard output.
 * Progress goes to standard error: a bar on a terminal, periodic lines otherwise.
 *
 * <p>Failures are {@code CODE: message} with a non-zero exit: the slide's codes (SLIDE_NOT_FOUND,
 * UNSUPPORTED_FORMAT, CORRUPT_SLIDE, UNKNOWN_RESOLUTION, ...), NO_TISSUE for a slide without
 * tissue, MODEL_INVALID for a missing, non-ONNX or wrongly shaped model.
 */
@Command(
        name = "embed",
        mixinStandardHelpOptions = true,
        description = {
            "Embed the tissue tiles of a slide, or tile images, with an ONNX model.",
            "Writes one JSON line per tile: slide_id, x, y, level, read_px, extent_px, tile_px, mpp, tissue, model_id,"
                    + " embedding (tile images: file, width, height instead of the slide fields)."
        })
final class EmbedCommand implements Callable<Integer> {

    /** Batch size when none is given: {@code inference.batch-size}'s default. */
    static final int DEFAULT_BATCH_SIZE = 32;

    /**
     * Per-tile inference timeout. The window bounds the queue to about two batches, so a tile only
     * waits for slow batches, never for the whole slide; a full-size model on a CPU may still take
     * minutes per batch, which must not fail the run.
     */
    private static final Duration TILE_TIMEOUT = Duration.ofMinutes(30);

    private static final long PROGRESS_LINE_MILLIS = 5_000;

    @Spec CommandSpec spec;

    @Parameters(
            arity = "1..*",
            paramLabel = "SLIDE | TILE.png",
            description =
                    "One slide (any format OpenSlide reads), or one or more tile images (.png,"
                            + " .jpg).")
    List<String> inputs;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "M.onnx",
            description = "The tile model: ONNX, input [N, 3, H, W], output [N, D].")
    Path model;

    @Option(
            names = "--out",
            paramLabel = "FILE.jsonl",
            description = "Write the JSON lines here (default: standard output).")
    Path out;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            description = "Tiles per model run (default: ${DEFAULT-VALUE}).")
    int batchSize = DEFAULT_BATCH_SIZE;

    @Option(
            names = "--tile-head",
            paramLabel = "H.onnx",
            description =
                    "A classifier over the embeddings ([N, D] -> [N, C]); adds"
                            + " head_probabilities to every line.")
    Path tileHead;

    @Option(
            names = "--slide-id",
            paramLabel = "ID",
            description =
                    "The slide_id to write (default: the slide's file name without extension).")
    String slideId;

    @Option(
            names = "--readers",
            paramLabel = "N",
            description = "Threads that read and preprocess tiles (default: cores, at most 4).")
    int readers = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    @Mixin RuntimeOptions runtime;

    @Option(
            names = "--progress",
            paramLabel = "MODE",
            description =
                    "Progress on standard error: auto (a bar on a terminal, lines otherwise), bar,"
                            + " lines or none (default: auto).")
    String progress = "auto";

    @Mixin SlideOptions slideOptions;

    @Override
    public Integer call() throws Exception {
        ProgressReporter.Mode progressMode = progressMode();
        boolean images = inputs.stream().allMatch(EmbedCommand::isTileImage);
        if (!images && inputs.size() != 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "embed takes one slide or any number of tile images (.png, .jpg), got "
                            + inputs.size()
                            + " inputs that are not all images: "
                            + inputs);
        }
        if (images && slideId != null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "--slide-id applies to a slide, not to tile images");
        }
        InferenceConfig config = inferenceConfig();
        if (images) {
            List<Path> files =
                    inputs.stream().map(Paths::get).map(EmbedCommand::requireFile).toList();
            try (TileInferenceEngine engine = TileInferenceEngine.open(config)) {
                TilePreprocessor preprocessor = preprocessorFor(engine);
                writeLines(
                        (json, err) ->
                                embedImages(
                                        engine,
                                        preprocessor,
                                        files,
                                        json,
                                        reporter(err, progressMode, files.size())));
            }
        } else {
            String slide = inputs.get(0);
            PlannedSlide planned =
                    PlannedSlide.plan(
                            slideOptions.opener(),
                            slide,
                            slideOptions.tilingConfig(),
                            slideOptions.defaultMpp());
            TilePlan plan = planned.plan();
            if (plan.outcome() == TilePlan.Outcome.NO_TISSUE) {
                // The plan's message says why; the command line also says which slide.
                throw new SlideStreamException(
                        ErrorCode.NO_TISSUE,
                        "slide " + slide + ": " + plan.noTissueError().getMessage());
            }
            String id = slideId != null ? slideId : slideIdOf(slide);
            PrintWriter err = spec.commandLine().getErr();
            for (String warning : plan.warnings()) {
                err.println("warning: " + warning);
            }
            try (OpenSlide openSlide = slideOptions.opener().open(slide);
                    TileInferenceEngine engine = TileInferenceEngine.open(config)) {
                TilePreprocessor preprocessor = preprocessorFor(engine);
                writeLines(
                        (json, e) ->
                                embedSlide(
                                        engine,
                                        preprocessor,
                                        openSlide,
                                        plan,
                                        id,
                                        json,
                                        reporter(e, progressMode, plan.tissueTileCount())));
            }
        }
        return 0;
    }

    private InferenceConfig inferenceConfig() {
        int window = OrderedTileEmbedder.windowFor(batchSize, readers);
        if (batchSize < 1 || readers < 1 || runtime.threads < 0) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--batch-size and --readers must be at least 1 and --threads at least 0, got "
                            + batchSize
                            + ", "
                            + readers
                            + ", "
                            + runtime.threads);
        }
        ConfigBuilder<InferenceConfig> b =
                runtime.applyTo(InferenceConfig.builder())
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.BATCH_SIZE, batchSize)
                        .set(InferenceOptions.CAPACITY, window)
                        .set(InferenceOptions.QUEUE_CAPACITY, window)
                        .set(InferenceOptions.TIMEOUT, TILE_TIMEOUT);
        if (tileHead != null) {
            b.set(InferenceOptions.TILE_HEAD_PATH, tileHead);
        }
        return b.build();
    }

    /** The preprocessing the model expects: its square input size and its card's normalisation. */
    static TilePreprocessor preprocessorFor(TileInferenceEngine engine) {
        EmbeddingEngine model = engine.embeddingEngine().orElseThrow();
        if (model.channels() != 3 || model.height() != model.width()) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model "
                            + model.modelId()
                            + " takes tiles of "
                            + model.channels()
                            + "x"
                            + model.height()
                            + "x"
                            + model.width()
                            + " (CxHxW) but tiles are preprocessed to square RGB: expected [N, 3,"
                            + " S, S]");
        }
        Optional<ModelCard.Normalization> norm =
                model.card().map(c -> c.normalization).filter(n -> n.mean != null && n.std != null);
        if (norm.isPresent()) {
            return new TilePreprocessor(
                    model.height(), toDoubles(norm.get().mean), toDoubles(norm.get().std));
        }
        return new TilePreprocessor(model.height());
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private void embedSlide(
            TileInferenceEngine engine,
            TilePreprocessor preprocessor,
            OpenSlide slide,
            TilePlan plan,
            String id,
            JsonGenerator json,
            ProgressReporter progress)
            throws IOException {
        int level = plan.readLevel();
        int readPx = plan.readPx();
        // One region buffer per reader thread; each tile's tensor is new, as the batcher holds it.
        ThreadLocal<int[]> regions = ThreadLocal.withInitial(() -> new int[readPx * readPx]);
        OrderedTileEmbedder embedder = embedder(engine);
        embedder.run(
                plan.tissueTileCount(),
                i -> {
                    int[] rgb = regions.get();
                    slide.readRegion(rgb, plan.tileX(i), plan.tileY(i), level, readPx, readPx);
                    return preprocessor.preprocess(rgb, readPx, readPx);
                },
                (i, result) -> {
                    json.writeStartObject();
                    json.writeStringField("slide_id", id);
                    json.writeNumberField("x", plan.tileX(i));
                    json.writeNumberField("y", plan.tileY(i));
                    json.writeNumberField("level", level);
                    json.writeNumberField("read_px", readPx);
                    json.writeNumberField("extent_px", plan.span0());
                    json.writeNumberField("tile_px", plan.tilePx());
                    json.writeNumberField("mpp", plan.targetMpp());
                    // Three decimals are plenty for a fraction measured on a 1/64 mask.
                    json.writeNumberField(
                            "tissue", Math.round(plan.tileTissue(i) * 1000.0) / 1000.0);
                    writeModelOutputs(json, engine.modelId(), result);
                    progress.advance();
                });
        progress.finish("embedded " + id);
    }

    private void embedImages(
            TileInferenceEngine engine,
            TilePreprocessor preprocessor,
            List<Path> files,
            JsonGenerator json,
            ProgressReporter progress)
            throws IOException {
        int[][] sizes = new int[files.size()][];
        embedder(engine)
                .run(
                        files.size(),
                        i -> {
                            BufferedImage image = readImage(files.get(i));
                            sizes[i] = new int[] {image.getWidth(), image.getHeight()};
                            return preprocessor.preprocess(image);
                        },
                        (i, result) -> {
                            json.writeStartObject();
                            json.writeStringField("file", files.get(i).toString());
                            json.writeNumberField("width", sizes[i][0]);
                            json.writeNumberField("height", sizes[i][1]);
                            writeModelOutputs(json, engine.modelId(), result);
                            progress.advance();
                        });
        progress.finish("embedded " + files.size() + " tile images");
    }

    private OrderedTileEmbedder embedder(TileInferenceEngine engine) {
        return new OrderedTileEmbedder(
                engine, readers, OrderedTileEmbedder.windowFor(batchSize, readers));
    }

    private static void writeModelOutputs(JsonGenerator json, String modelId, TileInference result)
            throws IOException {
        json.writeStringField("model_id", modelId);
        json.writeFieldName("embedding");
        writeFloats(json, result.embedding);
        if (result.headProbabilities.length > 0) {
            json.writeFieldName("head_probabilities");
            writeFloats(json, result.headProbabilities);
        }
        json.writeEndObject();
        json.writeRaw('\n');
    }

    private static void writeFloats(JsonGenerator json, float[] values) throws IOException {
        json.writeStartArray(values, values.length);
        for (float v : values) {
            // Float.toString's shortest form: the float32 value round-trips exactly.
            json.writeNumber(v);
        }
        json.writeEndArray();
    }

    @FunctionalInterface
    private interface LineWriter {
        void write(JsonGenerator json, PrintWriter err) throws IOException;
    }

    /**
     * Runs {@code body} with a JSON generator on {@code --out} (a {@code .part} file renamed when
     * the body succeeds, deleted when it fails) or on standard output.
     */
    private void writeLines(LineWriter body) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        JsonFactory factory =
                JsonFactory.builder()
                        .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
                        // Let the writer's buffer decide when to write, not every line.
                        .disable(
                                com.fasterxml.jackson.core.StreamWriteFeature
                                        .FLUSH_PASSED_TO_STREAM)
                        .build();
        if (out == null) {
            PrintWriter stdout = spec.commandLine().getOut();
            try (JsonGenerator json = factory.createGenerator(stdout)) {
                body.write(json, err);
            } finally {
                stdout.flush();
            }
            return;
        }
        Path part = out.resolveSibling(out.getFileName() + ".part");
        boolean done = false;
        try {
            try (Writer writer = Files.newBufferedWriter(part, StandardCharsets.UTF_8);
                    JsonGenerator json = factory.createGenerator(writer)) {
                body.write(json, err);
            }
            Files.move(
                    part, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            err.println("wrote " + out);
            err.flush();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "cannot write --out " + out.toAbsolutePath() + ": " + e.getMessage(),
                    e);
        } finally {
            if (!done) {
                Files.deleteIfExists(part);
            }
        }
    }

    private ProgressReporter reporter(PrintWriter err, ProgressReporter.Mode mode, int total) {
        return new ProgressReporter(err, mode, "tiles", total, PROGRESS_LINE_MILLIS);
    }

    private ProgressReporter.Mode progressMode() {
        switch (progress.toLowerCase(Locale.ROOT)) {
            case "auto":
                return ProgressReporter.auto();
            case "bar":
                return ProgressReporter.Mode.BAR;
            case "lines":
                return ProgressReporter.Mode.LINES;
            case "none":
                return ProgressReporter.Mode.NONE;
            default:
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "--progress=" + progress + " is not one of auto, bar, lines, none");
        }
    }

    static boolean isTileImage(String input) {
        String name = input.toLowerCase(Locale.ROOT);
        return name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg");
    }

    /** The slide's file name without its extension: {@code CMU-1.svs} -> {@code CMU-1}. */
    static String slideIdOf(String location) {
        Path file = SlideOpener.toPath(location).getFileName();
        String name = file == null ? location : file.toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static Path requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new SlideStreamException(
                    ErrorCode.SLIDE_NOT_FOUND,
                    "tile image " + file.toAbsolutePath() + " does not exist or is not a file");
        }
        return file;
    }

    private static BufferedImage readImage(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        if (image == null) {
            throw new SlideStreamException(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    "tile image " + file + " is not an image ImageIO can decode (PNG or JPEG)");
        }
        return image;
    }
}
