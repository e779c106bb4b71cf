package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tile embedding model: any ONNX model with one NCHW float input and an [N, D] float output
 * (GPFM: [N, 3, 224, 224] -> [N, 1024]). Everything about the model is read from it: the input and
 * output names, C, H, W and D; only the batch dimension may be dynamic. A model that does not fit
 * is refused with {@code MODEL_INVALID} naming the expected and the found shapes.
 *
 * <p>{@link #embed} copies the callers' CHW tensors (float32, or float16 for a float16 model, see
 * {@link TileTensor}) into one reused direct batch buffer and runs the session; it is synchronised,
 * because the buffer is shared. In the stream it is called only by the {@link MicroBatcher} thread.
 * The engine computes the model id (see {@link ModelCard}) and runs a warm-up batch at start when
 * configured.
 */
public final class EmbeddingEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingEngine.class);

    private final OnnxModel model;
    private final String outputName;
    private final List<String> requestedOutputs;
    private final int channels;
    private final int height;
    private final int width;
    private final int tileValues;
    private final int dimension;
    private final int maxBatch;
    private final String sha256;
    private final String modelId;
    private final Optional<ModelCard> card;

    private EmbeddingEngine(OnnxModel model, int maxBatch) {
        this.model = model;
        long[] in = model.inputShape();
        String found =
                "found input " + model.describeInput() + ", outputs " + model.describeOutputs();
        String expected =
                "model "
                        + model.path()
                        + " does not fit the embedding contract: expected one input [N, C, H, W]"
                        + " float32/float16 with fixed C, H, W and a first output [N, D]"
                        + " float32/float16 with fixed D; ";
        if (in.length != 4 || !model.isFloatInput() || in[1] <= 0 || in[2] <= 0 || in[3] <= 0) {
            throw new SlideStreamException(ErrorCode.MODEL_INVALID, expected + found);
        }
        if (in[0] > 0 && in[0] < maxBatch) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model "
                            + model.path()
                            + " has a fixed batch of "
                            + in[0]
                            + " ("
                            + model.describeInput()
                            + ") but inference.batch-size="
                            + maxBatch
                            + ": export it with a dynamic batch (tools/export_onnx.py does) or set"
                            + " inference.batch-size=1");
        }
        this.outputName = model.outputNames().get(0);
        long[] out = model.outputShape(outputName);
        if (out == null
                || out.length != 2
                || out[0] != in[0]
                || out[1] <= 0
                || !model.isFloatOutput(outputName)) {
            throw new SlideStreamException(ErrorCode.MODEL_INVALID, expected + found);
        }
        this.requestedOutputs = List.of(outputName);
        this.channels = (int) in[1];
        this.height = (int) in[2];
        this.width = (int) in[3];
        this.tileValues = Math.multiplyExact(channels, Math.multiplyExact(height, width));
        this.dimension = (int) out[1];
        this.maxBatch = in[0] > 0 ? (int) Math.min(in[0], maxBatch) : maxBatch;
        this.sha256 = ModelCard.cachedSha256(model.path());
        this.card = ModelCard.readBeside(model.path());
        card.ifPresent(c -> c.checkDescribes(model.path(), sha256, dimension, height));
        this.modelId = ModelCard.modelId(model.path(), card, sha256);
    }

    /** Opens {@code config.modelPath()} with the configured provider and batch size. */
    public static EmbeddingEngine open(InferenceConfig config) {
        return open(config.modelPath(), config);
    }

    /** Opens {@code modelPath} with the provider and batch size of {@code config}. */
    public static EmbeddingEngine open(Path modelPath, InferenceConfig config) {
        OnnxModel model = OnnxModel.load(modelPath, config);
        EmbeddingEngine engine;
        try {
            engine = new EmbeddingEngine(model, config.batchSize());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        if (config.warmUp()) {
            long t0 = System.nanoTime();
            float[][] zeros = new float[engine.maxBatch][engine.tileValues];
            engine.embed(Arrays.asList(zeros));
            LOG.info(
                    "Warmed up {} with a batch of {} in {} ms",
                    engine.modelId,
                    engine.maxBatch,
                    (System.nanoTime() - t0) / 1_000_000);
        }
        return engine;
    }

    /**
     * Embeds {@code tiles} (each a CHW tensor of {@link #tileValues()} floats) in one run; at most
     * {@link #maxBatch()} tiles. Returns one embedding of length {@link #dimension()} per tile, in
     * order.
     */
    public float[][] embed(List<float[]> tiles) {
        List<TileTensor> tensors = new ArrayList<>(tiles.size());
        for (float[] t : tiles) {
            tensors.add(TileTensor.of(t));
        }
        return embedTensors(tensors);
    }

    /**
     * Embeds {@code tiles}, float32 or float16 ({@link TileTensor}); at most {@link #maxBatch()}.
     * For a float16 model, float16 tensors are copied into the batch as they are and float32 ones
     * converted here; for a float32 model, float16 tensors are widened.
     */
    public synchronized float[][] embedTensors(List<TileTensor> tiles) {
        int n = tiles.size();
        if (n == 0) {
            return new float[0][];
        }
        if (n > maxBatch) {
            throw new IllegalArgumentException(
                    "batch of " + n + " is larger than the engine's " + maxBatch);
        }
        for (TileTensor t : tiles) {
            requireTileLength(t.length());
        }
        if (model.isFp16Input()) {
            ShortBuffer buf = model.halfInput(n * tileValues);
            for (TileTensor t : tiles) {
                t.putHalves(buf);
            }
        } else {
            FloatBuffer buf = model.input(n * tileValues);
            for (TileTensor t : tiles) {
                t.putFloats(buf);
            }
        }
        OnnxModel.Output out =
                model.run(new long[] {n, channels, height, width}, requestedOutputs).get(0);
        float[][] result = new float[n][];
        for (int i = 0; i < n; i++) {
            result[i] = Arrays.copyOfRange(out.values, i * dimension, (i + 1) * dimension);
        }
        return result;
    }

    /** Checks one caller's tensor before it reaches a batch, so a wrong one fails alone. */
    void requireTileLength(int values) {
        if (values != tileValues) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "tile tensor has "
                            + (values == 0 ? "no values" : values + " values")
                            + " but model "
                            + modelId
                            + " takes CHW "
                            + channels
                            + "x"
                            + height
                            + "x"
                            + width
                            + " = "
                            + tileValues);
        }
    }

    public OnnxModel model() {
        return model;
    }

    public String inputName() {
        return model.inputName();
    }

    public String outputName() {
        return outputName;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Floats in one CHW tile tensor: C x H x W. */
    public int tileValues() {
        return tileValues;
    }

    /** D, the embedding length, read from the model. */
    public int dimension() {
        return dimension;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /**
     * True when the model takes float16: tiles are best preprocessed straight to float16 ({@link
     * TileTensor#ofHalves}), so that no conversion runs on the batch thread.
     */
    public boolean takesHalves() {
        return model.isFp16Input();
    }

    /** Name (from the card or the file) plus the ONNX file's checksum prefix. */
    public String modelId() {
        return modelId;
    }

    public String sha256() {
        return sha256;
    }

    public Optional<ModelCard> card() {
        return card;
    }

    @Override
    public void close() {
        model.close();
    }
}
