package io.slidestream.preprocess;

import ai.onnxruntime.platform.Fp16Conversions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.PilBicubicResizer.Target;
import io.slidestream.schemas.ErrorCode;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.util.Arrays;

/**
 * Turns one RGB tile into the model's input tensor exactly as the GPFM reference pipeline does
 * ({@code PIL.Image.resize(224, BICUBIC)} → {@code ToTensor} → {@code Normalize(ImageNet)}): a
 * Pillow-identical bicubic resize to {@code inputSize x inputSize} ({@link PilBicubicResizer},
 * skipped when the tile already has that size), then per channel {@code (v / 255 - mean) / std} in
 * float32, written CHW into a caller-provided array at an offset so a batch tensor is filled in
 * place.
 *
 * <p>The normalisation is a 256-entry table per channel computed once with the same float32
 * operations in the same order as PyTorch ({@code uint8 → float32}, {@code div(255)}, {@code
 * sub_(mean)}, {@code div_(std)}, with mean and std rounded to float32 as {@code
 * torch.as_tensor(..., dtype=float32)} does), so each value is bit-identical to PyTorch's.
 *
 * <p>For a model that takes float16, {@link #preprocessHalf} writes the float16 bits of the same
 * values through tables of float16 bits: the conversion happens once per table entry, not per
 * value.
 *
 * <p>Stateless apart from the immutable tables (and per-thread scratch buffers): one instance is
 * shared by all threads of a task manager. Bad arguments (sizes, buffer lengths, an empty image)
 * throw {@link SlideStreamException} with {@link ErrorCode#INVALID_REQUEST}.
 */
public final class TilePreprocessor {

    /** GPFM's (and most ViT foundation models') input size. */
    public static final int DEFAULT_INPUT_SIZE = 224;

    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};

    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

    private final int inputSize;
    private final float[] lutR;
    private final float[] lutG;
    private final float[] lutB;
    private final float[][] luts;

    /** The tables' values as float16 bits, for models that take float16. */
    private final short[][] halfLuts;

    /** ImageNet normalisation at {@link #DEFAULT_INPUT_SIZE}. */
    public TilePreprocessor() {
        this(DEFAULT_INPUT_SIZE);
    }

    /** ImageNet normalisation at the given square input size (read from the model). */
    public TilePreprocessor(int inputSize) {
        this(inputSize, IMAGENET_MEAN, IMAGENET_STD);
    }

    /**
     * @param inputSize the model's square input size in pixels
     * @param mean per-channel mean (R, G, B) on the 0..1 scale
     * @param std per-channel standard deviation (R, G, B), positive
     */
    public TilePreprocessor(int inputSize, double[] mean, double[] std) {
        if (inputSize <= 0 || inputSize > 8192) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "Model input size " + inputSize + " is out of range; expected 1..8192 pixels");
        }
        if (mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "Normalisation needs three means and three standard deviations (R, G, B), got "
                            + Arrays.toString(mean)
                            + " and "
                            + Arrays.toString(std));
        }
        for (int c = 0; c < 3; c++) {
            if (!(std[c] > 0) || !Double.isFinite(std[c]) || !Double.isFinite(mean[c])) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "Normalisation mean "
                                + Arrays.toString(mean)
                                + " / std "
                                + Arrays.toString(std)
                                + " is invalid: values must be finite and std positive");
            }
        }
        this.inputSize = inputSize;
        this.lutR = normalisationTable((float) mean[0], (float) std[0]);
        this.lutG = normalisationTable((float) mean[1], (float) std[1]);
        this.lutB = normalisationTable((float) mean[2], (float) std[2]);
        this.luts = new float[][] {lutR, lutG, lutB};
        this.halfLuts = new short[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                halfLuts[c][v] = Fp16Conversions.floatToFp16(luts[c][v]);
            }
        }
    }

    /**
     * {@code (v / 255 - mean) / std} for every byte value, in float32 and in PyTorch's order
     * ({@code ToTensor} divides by 255, {@code Normalize} subtracts then divides). Java float
     * arithmetic is IEEE binary32 with round-to-nearest, as PyTorch's CPU kernels are.
     */
    static float[] normalisationTable(float mean, float std) {
        float[] lut = new float[256];
        for (int v = 0; v < 256; v++) {
            float scaled = (float) v / 255f;
            lut[v] = (scaled - mean) / std;
        }
        return lut;
    }

    /** ImageNet channel means (R, G, B), as every timm/torchvision pipeline writes them. */
    public static double[] imagenetMean() {
        return IMAGENET_MEAN.clone();
    }

    /** ImageNet channel standard deviations (R, G, B). */
    public static double[] imagenetStd() {
        return IMAGENET_STD.clone();
    }

    /** The model's square input size. */
    public int inputSize() {
        return inputSize;
    }

    /** Floats per tile: {@code 3 * inputSize * inputSize}. */
    public int tensorLength() {
        return 3 * inputSize * inputSize;
    }

    /** Preprocesses packed RGB ({@code 0x00RRGGBB}, row-major) into a new CHW float array. */
    public float[] preprocess(int[] rgb, int width, int height) {
        float[] tensor = new float[tensorLength()];
        preprocess(rgb, width, height, tensor, 0);
        return tensor;
    }

    /**
     * Preprocesses packed RGB ({@code 0x00RRGGBB}, row-major, {@code width * height} values, as
     * {@link io.slidestream.slide.SlideSource#readRegion} fills it) into {@code dest[offset ..
     * offset + tensorLength())} as CHW float32. The high byte of each pixel is ignored.
     */
    public void preprocess(int[] rgb, int width, int height, float[] dest, int offset) {
        checkDestination(dest == null ? 0 : dest.length, offset);
        // A tile of the input size is not resized, only mapped through the tables.
        PilBicubicResizer.resizeInto(
                rgb, width, height, inputSize, inputSize, Target.floats(dest, offset, luts));
    }

    /**
     * As {@link #preprocess(int[], int, int, float[], int)}, but writes the float16 bits of each
     * value ({@code Fp16Conversions.floatToFp16} of the float32 value, so exactly what converting
     * the float32 tensor gives): for a model that takes float16, on the thread that read the tile.
     * The conversion is folded into the per-channel tables, so it costs nothing per value.
     */
    public void preprocessHalf(int[] rgb, int width, int height, short[] dest, int offset) {
        checkDestination(dest == null ? 0 : dest.length, offset);
        PilBicubicResizer.resizeInto(
                rgb, width, height, inputSize, inputSize, Target.halves(dest, offset, halfLuts));
    }

    /** Preprocesses an image of any type and size into a new CHW float array. */
    public float[] preprocess(BufferedImage image) {
        float[] tensor = new float[tensorLength()];
        preprocess(image, tensor, 0);
        return tensor;
    }

    /**
     * Preprocesses an image of any type and size (converted to RGB by {@link #toPackedRgb}) into
     * {@code dest} at {@code offset}.
     */
    public void preprocess(BufferedImage image, float[] dest, int offset) {
        if (image == null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "No image given to preprocess");
        }
        preprocess(toPackedRgb(image), image.getWidth(), image.getHeight(), dest, offset);
    }

    /** A destination of {@code length} values (0 when there is none) must hold a tensor. */
    private void checkDestination(int length, int offset) {
        if (offset < 0 || (long) offset + tensorLength() > length) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "Tensor buffer of %d values cannot take %d values at offset %d; size"
                                    + " batch buffers as batchSize * %d",
                            length, tensorLength(), offset, tensorLength()));
        }
    }

    /**
     * Converts an image of any type to packed opaque RGB ({@code 0x00RRGGBB}, row-major). Alpha is
     * composited over white, as the slide reader does for transparent slide areas; grey images are
     * replicated into R, G and B (as PIL's {@code convert("RGB")} does, without the linear-grey to
     * sRGB conversion {@link BufferedImage#getRGB} would apply); everything else goes through the
     * image's colour model to sRGB.
     */
    public static int[] toPackedRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] out = new int[w * h];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int type = image.getType();
        if (type == BufferedImage.TYPE_INT_RGB) {
            raster.getDataElements(0, 0, w, h, out);
            for (int i = 0; i < out.length; i++) {
                out[i] &= 0xffffff;
            }
            return out;
        }
        if (isGrey8(cm, raster)) {
            boolean alpha = cm.hasAlpha();
            int bands = raster.getNumBands();
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int v = row[x * bands];
                    if (alpha) {
                        v = overWhite(v, row[x * bands + 1]);
                    }
                    out[y * w + x] = v << 16 | v << 8 | v;
                }
            }
            return out;
        }
        image.getRGB(0, 0, w, h, out, 0, w);
        boolean alpha = cm.hasAlpha();
        for (int i = 0; i < out.length; i++) {
            int p = out[i];
            int a = p >>> 24;
            if (alpha && a != 255) {
                p =
                        overWhite((p >> 16) & 0xff, a) << 16
                                | overWhite((p >> 8) & 0xff, a) << 8
                                | overWhite(p & 0xff, a);
            }
            out[i] = p & 0xffffff;
        }
        return out;
    }

    private static boolean isGrey8(ColorModel cm, Raster raster) {
        return cm instanceof ComponentColorModel
                && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && raster.getTransferType() == DataBuffer.TYPE_BYTE;
    }

    /** Non-premultiplied value {@code v} with alpha {@code a} over white, rounded. */
    private static int overWhite(int v, int a) {
        return (v * a + 255 * (255 - a) + 127) / 255;
    }
}
