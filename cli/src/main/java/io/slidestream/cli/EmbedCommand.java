package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.local.JsonLines;
import io.slidestream.local.LocalEmbedding;
import io.slidestream.local.OrderedTileEmbedder;
import io.slidestream.local.ProgressReporter;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.settings.ConfigBuilder;
import io.slidestream.slide.OpenSlide;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
        boolean images = inputs.stream().allMatch(LocalEmbedding::isTileImage);
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
                    inputs.stream().map(Paths::get).map(LocalEmbedding::requireFile).toList();
            try (TileInferenceEngine engine = TileInferenceEngine.open(config)) {
                LocalEmbedding embedding = embedding(engine);
                PrintWriter err = spec.commandLine().getErr();
                JsonLines.write(
                        out,
                        spec.commandLine().getOut(),
                        err,
                        json ->
                                embedding.embedImages(
                                        files, json, reporter(err, progressMode, files.size())));
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
            String id = slideId != null ? slideId : LocalEmbedding.slideIdOf(slide);
            PrintWriter err = spec.commandLine().getErr();
            for (String warning : plan.warnings()) {
                err.println("warning: " + warning);
            }
            try (OpenSlide openSlide = slideOptions.opener().open(slide);
                    TileInferenceEngine engine = TileInferenceEngine.open(config)) {
                LocalEmbedding embedding = embedding(engine);
                JsonLines.write(
                        out,
                        spec.commandLine().getOut(),
                        err,
                        json ->
                                embedding.embedSlide(
                                        openSlide,
                                        plan,
                                        id,
                                        json,
                                        reporter(err, progressMode, plan.tissueTileCount())));
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

    private LocalEmbedding embedding(TileInferenceEngine engine) {
        return new LocalEmbedding(
                engine, readers, OrderedTileEmbedder.windowFor(batchSize, readers));
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
}
