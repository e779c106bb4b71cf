package io.slidestream.local;

import com.fasterxml.jackson.core.JsonGenerator;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.ModelCard;
import io.slidestream.inference.TileInference;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.TilePlan;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.imageio.ImageIO;

/**
 * What {@code slidestream embed} does with a model: embeds a slide's tissue tiles (read with
 * OpenSlide at the plan's level and read size) or tile images, preprocessed as the model expects
 * ({@link #preprocessorFor}: its input size, its card's normalisation or ImageNet's), by the
 * micro-batching {@link TileInferenceEngine} with {@code readers} threads reading ahead within a
 * window of tiles ({@link OrderedTileEmbedder}), and writes one JSON line per tile in order: its
 * position (or file), the model id, the embedding and any tile head's probabilities.
 */
public final class LocalEmbedding {
    private final TileInferenceEngine engine;
    private final TilePreprocessor preprocessor;
    private final int readers;
    private final int window;

    public LocalEmbedding(TileInferenceEngine engine, int readers, int window) {
        this.engine = engine;
        this.preprocessor = preprocessorFor(engine);
        this.readers = readers;
        this.window = window;
    }

    /** The preprocessing the model expects: its square input size and its card's normalisation. */
    public static TilePreprocessor preprocessorFor(TileInferenceEngine engine) {
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

    /**
     * Embeds the plan's tissue tiles of {@code slide}, read at the plan's level and size by the
     * reader threads, and writes one line per tile in plan order.
     */
    public void embedSlide(
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
        OrderedTileEmbedder embedder = new OrderedTileEmbedder(engine, readers, window);
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

    /** Embeds tile images (PNG, JPEG) and writes one line per image in the given order. */
    public void embedImages(List<Path> files, JsonGenerator json, ProgressReporter progress)
            throws IOException {
        int[][] sizes = new int[files.size()][];
        new OrderedTileEmbedder(engine, readers, window)
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

    /** Whether {@code input} names a tile image rather than a slide. */
    public static boolean isTileImage(String input) {
        String name = input.toLowerCase(Locale.ROOT);
        return name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg");
    }

    /** The slide's file name without its extension: {@code CMU-1.svs} -> {@code CMU-1}. */
    public static String slideIdOf(String location) {
        Path file = SlideOpener.toPath(location).getFileName();
        String name = file == null ? location : file.toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** {@code file}, which must be a regular file (SLIDE_NOT_FOUND otherwise). */
    public static Path requireFile(Path file) {
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
