package io.slidestream.inference;

import ai.onnxruntime.platform.Fp16Conversions;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * One tile's CHW model input on its way to a batch: float32 values, or the float16 bits of those
 * values for a model that takes float16. A float16 tensor is made on the thread that preprocessed
 * the tile ({@link io.slidestream.preprocess.TilePreprocessor#preprocessHalf}), so the batch
 * thread, the one that feeds the GPU, only copies it; a float32 tensor given to a float16 model is
 * converted on the batch thread. A tensor wraps its array without copying: the array may be reused
 * once the tile's inference has completed.
 */
public final class TileTensor {
    private final float[] floats;
    private final short[] halves;

    private TileTensor(float[] floats, short[] halves) {
        this.floats = floats;
        this.halves = halves;
    }

    /** Float32 values. */
    public static TileTensor of(float[] chw) {
        return new TileTensor(chw, null);
    }

    /** Float16 bits (IEEE binary16), as {@link Fp16Conversions#floatToFp16} gives them. */
    public static TileTensor ofHalves(short[] chw) {
        return new TileTensor(null, chw);
    }

    /** Values in the tensor (0 when it has none). */
    public int length() {
        if (halves != null) {
            return halves.length;
        }
        return floats == null ? 0 : floats.length;
    }

    public boolean isHalf() {
        return halves != null;
    }

    /** The float32 values; null for a float16 tensor. */
    public float[] floats() {
        return floats;
    }

    /** The float16 bits; null for a float32 tensor. */
    public short[] halves() {
        return halves;
    }

    /** A tensor of the same kind and length, all zeros: a known-good input. */
    TileTensor zeros() {
        return halves != null ? ofHalves(new short[halves.length]) : of(new float[length()]);
    }

    /** Appends the values to a float32 batch buffer. */
    public void putFloats(FloatBuffer buffer) {
        if (halves == null) {
            buffer.put(floats);
            return;
        }
        for (short h : halves) {
            buffer.put(Fp16Conversions.fp16ToFloat(h));
        }
    }

    /** Appends the values to a float16 batch buffer; a float32 tensor is converted here. */
    public void putHalves(ShortBuffer buffer) {
        if (halves != null) {
            buffer.put(halves);
            return;
        }
        for (float f : floats) {
            buffer.put(Fp16Conversions.floatToFp16(f));
        }
    }
}
