package io.slidestream.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream model-run}: runs an ONNX model once on a raw float32 tensor through ONNX
 * Runtime Java (the engine the job uses) and writes the first output as raw float32. {@code
 * tools/export_onnx.py} uses it to check an export against PyTorch where Python has no onnxruntime
 * (Debian ships none).
 */
@Command(
        name = "model-run",
        mixinStandardHelpOptions = true,
        description =
                "Run an ONNX model on a raw little-endian float32 tensor with ONNX Runtime Java"
                        + " and write its first output the same way (for tools/export_onnx.py).")
final class ModelRunCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "M.onnx")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "IN.f32")
    Path input;

    @Option(
            names = "--shape",
            required = true,
            split = ",",
            paramLabel = "N,C,H,W",
            description = "Shape of the input tensor.")
    List<Long> shape;

    @Option(names = "--output", required = true, paramLabel = "OUT.f32")
    Path output;

    @Override
    public Integer call() throws Exception {
        long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
        byte[] bytes = Files.readAllBytes(input);
        long expected = Arrays.stream(dims).reduce(4, (a, b) -> a * b);
        if (bytes.length != expected) {
            throw new IllegalArgumentException(
                    input
                            + " has "
                            + bytes.length
                            + " bytes; shape "
                            + shape
                            + " needs "
                            + expected);
        }
        FloatBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session =
                        env.createSession(model.toString(), new OrtSession.SessionOptions());
                OnnxTensor tensor = OnnxTensor.createTensor(env, data, dims);
                OrtSession.Result result =
                        session.run(Map.of(session.getInputNames().iterator().next(), tensor))) {
            OnnxTensor out = (OnnxTensor) result.get(0);
            FloatBuffer values = out.getFloatBuffer();
            ByteBuffer raw =
                    ByteBuffer.allocate(values.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(values);
            Files.write(output, raw.array());
            PrintWriter w = spec.commandLine().getOut();
            w.println(
                    "ran "
                            + model.getFileName()
                            + " on "
                            + shape
                            + ": output "
                            + Arrays.toString(out.getInfo().getShape()));
            w.flush();
        }
        return 0;
    }
}
