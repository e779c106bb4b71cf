package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.file.Path;
import java.util.List;

/**
 * The ABMIL slide head on ONNX Runtime: one bag of tile embeddings [tiles, D] in, slide logits [1,
 * C] and attention [1, tiles] out (GPFM's ABMIL: Linear D->512, ReLU, gated attention, softmax over
 * the tiles, classifier 512->C). Outputs are found by name ({@code logits}, {@code attention}) and
 * otherwise by shape (the output with a fixed last dimension is the logits). Runs on the same
 * {@link OnnxModel} code and provider settings as the tile engine; one call at a time per instance
 * (the slide aggregate calls it once per slide).
 */
public final class OnnxSlideHead implements SlideHead {
    private final OnnxModel model;
    private final int dimension;
    private final String logitsName;
    private final String attentionName;
    private final List<String> outputs;
    private final int classes;
    private final HeadCard.Identity identity;

    private OnnxSlideHead(OnnxModel model) {
        this.model = model;
        long[] in = model.inputShape();
        String found =
                "found input " + model.describeInput() + ", outputs " + model.describeOutputs();
        String expected =
                "slide head "
                        + model.path()
                        + " does not fit: expected input [tiles, D] float with fixed D and outputs"
                        + " logits [1, C] and attention [1, tiles]; ";
        if (in.length != 2 || in[1] <= 0 || !model.isFloatInput()) {
            throw new SlideStreamException(ErrorCode.MODEL_INVALID, expected + found);
        }
        String logits = null;
        String attention = null;
        for (String name : model.outputNames()) {
            if (name.toLowerCase(java.util.Locale.ROOT).contains("logit")) {
                logits = name;
            } else if (name.toLowerCase(java.util.Locale.ROOT).contains("attention")) {
                attention = name;
            }
        }
        if ((logits == null || attention == null) && model.outputNames().size() == 2) {
            String a = model.outputNames().get(0);
            String b = model.outputNames().get(1);
            long[] sa = model.outputShape(a);
            boolean aFixed = sa != null && sa.length == 2 && sa[1] > 0;
            logits = aFixed ? a : b;
            attention = aFixed ? b : a;
        }
        long[] ls = logits == null ? null : model.outputShape(logits);
        long[] as = attention == null ? null : model.outputShape(attention);
        if (ls == null
                || as == null
                || ls.length != 2
                || ls[1] <= 0
                || as.length != 2
                || !model.isFloatOutput(logits)
                || !model.isFloatOutput(attention)) {
            throw new SlideStreamException(ErrorCode.MODEL_INVALID, expected + found);
        }
        this.dimension = (int) in[1];
        this.logitsName = logits;
        this.attentionName = attention;
        this.outputs = List.of(logits, attention);
        this.classes = (int) ls[1];
        this.identity = HeadCard.identify(model.path(), classes);
    }

    /** Opens the ABMIL model at {@code path} with the provider settings of {@code config}. */
    public static OnnxSlideHead open(Path path, InferenceConfig config) {
        OnnxModel model = OnnxModel.load(path, config);
        try {
            return new OnnxSlideHead(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public synchronized Output predict(float[] embeddings, int tileCount) {
        if (tileCount < 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "a slide bag needs at least one tile embedding");
        }
        if (embeddings == null || embeddings.length != (long) tileCount * dimension) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "a bag of "
                            + tileCount
                            + " tiles needs "
                            + ((long) tileCount * dimension)
                            + " values (D="
                            + dimension
                            + "), got "
                            + (embeddings == null ? 0 : embeddings.length));
        }
        model.input(embeddings.length).put(embeddings);
        List<OnnxModel.Output> out = model.run(new long[] {tileCount, dimension}, outputs);
        float[] attention = out.get(1).values;
        if (attention.length != tileCount) {
            throw new SlideStreamException(
                    ErrorCode.INFERENCE_FAILED,
                    "slide head "
                            + model.path().getFileName()
                            + " returned "
                            + attention.length
                            + " attention weights for "
                            + tileCount
                            + " tiles");
        }
        return new Output(out.get(0).values, attention);
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public String headId() {
        return identity.headId();
    }

    @Override
    public List<String> classNames() {
        return identity.classes();
    }

    /** C, the number of slide classes. */
    public int classes() {
        return classes;
    }

    public String logitsOutput() {
        return logitsName;
    }

    public String attentionOutput() {
        return attentionName;
    }

    @Override
    public void close() {
        model.close();
    }
}
