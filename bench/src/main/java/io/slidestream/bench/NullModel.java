package io.slidestream.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A near-zero-cost tile model with GPFM's contract, for measuring what the pipeline itself costs
 * per tile: input {@code [N, 3, size, size]} float, output {@code [N, D]} float, computed as the
 * per-channel mean of the tile (ONNX {@code GlobalAveragePool}, {@code Flatten}) times a fixed
 * {@code [3, D]} matrix ({@code MatMul}). About 3 x size² additions per tile instead of GPFM's 78
 * GFLOP, so the CPU a pipeline run spends is the pipeline's, and the embeddings still differ with
 * the tile's colour (the similarity search has something to find).
 *
 * <p>The file is written directly in the ONNX protobuf wire format (a handful of messages; no
 * protobuf library needed): IR version 8, opset 13.
 */
public final class NullModel {

    private static final int FLOAT = 1;

    private NullModel() {}

    /** Column {@code d} of the matrix for channel {@code c}: fixed, varied, of unit scale. */
    public static float weight(int c, int d) {
        return (float) Math.sin(1.0 + 3.1 * c + 0.37 * d);
    }

    /** Writes the model to {@code file} (replacing it) and returns the file. */
    public static Path write(Path file, int inputSize, int dimension) throws IOException {
        if (inputSize < 1 || dimension < 1) {
            throw new IllegalArgumentException(
                    "the null model needs a positive input size and dimension, got "
                            + inputSize
                            + " and "
                            + dimension);
        }
        ByteBuffer w = ByteBuffer.allocate(3 * dimension * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < 3; c++) {
            for (int d = 0; d < dimension; d++) {
                w.putFloat(weight(c, d));
            }
        }
        Proto weights =
                new Proto()
                        .varint(1, 3)
                        .varint(1, dimension)
                        .varint(2, FLOAT)
                        .string(8, "weights")
                        .bytes(9, w.array());
        Proto graph =
                new Proto()
                        .message(1, node("GlobalAveragePool", "input", null, "pooled"))
                        .message(1, node("Flatten", "pooled", null, "flat"))
                        .message(1, node("MatMul", "flat", "weights", "embedding"))
                        .string(2, "null-model")
                        .message(5, weights)
                        .message(11, valueInfo("input", "N", 3, inputSize, inputSize))
                        .message(12, valueInfo("embedding", "N", dimension));
        Proto model =
                new Proto()
                        .varint(1, 8)
                        .string(2, "slidestream-null-model")
                        .message(7, graph)
                        .message(8, new Proto().string(1, "").varint(2, 13));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, model.toByteArray());
        return file;
    }

    private static Proto node(String op, String input, String input2, String output) {
        Proto node = new Proto().string(1, input);
        if (input2 != null) {
            node.string(1, input2);
        }
        return node.string(2, output).string(3, op.toLowerCase()).string(4, op);
    }

    /** A float tensor value with a symbolic first dimension and fixed others. */
    private static Proto valueInfo(String name, String batch, long... dims) {
        Proto shape = new Proto().message(1, new Proto().string(2, batch));
        for (long d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, FLOAT).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** One protobuf message being written: varint and length-delimited fields only. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            writeVarint((long) field << 3);
            writeVarint(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.toByteArray());
        }

        Proto bytes(int field, byte[] value) {
            writeVarint(((long) field << 3) | 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private void writeVarint(long value) {
            long v = value;
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
