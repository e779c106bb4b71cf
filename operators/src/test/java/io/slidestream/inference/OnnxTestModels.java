package io.slidestream.inference;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes tiny ONNX models for contract tests the fixture models cannot cover (float16 edges). The
 * ONNX file format is protobuf; this writes the handful of fields such a model needs, so the tests
 * need neither Python nor the onnx protobuf classes. Field numbers follow onnx.proto3.
 */
public final class OnnxTestModels {
    private static final int FLOAT = 1;
    private static final int FLOAT16 = 10;

    private OnnxTestModels() {}

    /**
     * A float16 model [N, 3, size, size] -> [N, 3]: the mean of each channel, computed in float32
     * between two Casts, so the float16 conversions at the edge are what the test exercises.
     */
    public static Path fp16ChannelMean(Path file, int size) throws IOException {
        byte[] graph =
                concat(
                        node("Cast", new String[] {"x"}, new String[] {"xf"}, intAttr("to", FLOAT)),
                        node("GlobalAveragePool", new String[] {"xf"}, new String[] {"pooled"}),
                        node(
                                "Flatten",
                                new String[] {"pooled"},
                                new String[] {"flat"},
                                intAttr("axis", 1)),
                        node(
                                "Cast",
                                new String[] {"flat"},
                                new String[] {"embedding"},
                                intAttr("to", FLOAT16)),
                        string(2, "fp16-channel-mean"),
                        message(11, valueInfo("x", FLOAT16, "N", 3, size, size)),
                        message(12, valueInfo("embedding", FLOAT16, "N", 3)));
        byte[] model =
                concat(
                        varintField(1, 8),
                        string(2, "slidestream-test"),
                        message(7, graph),
                        message(8, concat(string(1, ""), varintField(2, 17))));
        Files.write(file, model);
        return file;
    }

    private static byte[] node(String op, String[] in, String[] out, byte[]... attributes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String s : in) {
            b.writeBytes(string(1, s));
        }
        for (String s : out) {
            b.writeBytes(string(2, s));
        }
        b.writeBytes(string(4, op));
        for (byte[] a : attributes) {
            b.writeBytes(message(5, a));
        }
        return message(1, b.toByteArray());
    }

    private static byte[] intAttr(String name, long value) {
        // AttributeProto: name = 1, i = 3, type = 20 (INT = 2).
        return concat(string(1, name), varintField(3, value), varintField(20, 2));
    }

    /** ValueInfoProto with a tensor type; the first dimension symbolic, the others fixed. */
    private static byte[] valueInfo(String name, int elemType, String batch, long... dims) {
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        shape.writeBytes(message(1, string(2, batch)));
        for (long d : dims) {
            shape.writeBytes(message(1, varintField(1, d)));
        }
        byte[] tensor = concat(varintField(1, elemType), message(2, shape.toByteArray()));
        return concat(string(1, name), message(2, message(1, tensor)));
    }

    private static byte[] string(int field, String s) {
        return message(field, s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] message(int field, byte[] payload) {
        return concat(varint((field << 3) | 2), varint(payload.length), payload);
    }

    private static byte[] varintField(int field, long value) {
        return concat(varint(field << 3), varint(value));
    }

    private static byte[] varint(long v) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while ((v & ~0x7FL) != 0) {
            b.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
        return b.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
