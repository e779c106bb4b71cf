package io.slidestream.cli;

import io.slidestream.bench.EmbedBenchmark;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench embed --model M.onnx}: runs {@link EmbedBenchmark} — tiles/s of (a) a
 * bare {@code OrtSession.run} loop on ready batches and (b) the micro-batcher fed single tiles by
 * concurrent callers, the ratio b/a, and the peak resident memory with one and with two slots
 * sharing the engine — and prints its figures on standard output.
 */
@Command(
        name = "embed",
        mixinStandardHelpOptions = true,
        description =
                "Embedding throughput (bare ONNX Runtime loop vs. micro-batcher) and the memory a"
                        + " second slot sharing the engine adds.")
final class BenchEmbedCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "M.onnx",
            description = "The tile model: ONNX, input [N, C, H, W], output [N, D].")
    Path model;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            description = "Tiles per model run (default: ${DEFAULT-VALUE}).")
    int batchSize = 16;

    @Mixin RuntimeOptions runtime;

    @Option(
            names = "--batches",
            paramLabel = "N",
            description = "Batches per measurement (default: ${DEFAULT-VALUE}).")
    int batches = 20;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            description =
                    "Alternating measurements; the best of each counts (default: ${DEFAULT-VALUE}).")
    int rounds = 3;

    @Override
    public Integer call() throws Exception {
        // The benchmark's callers keep 2 x batch-size tiles in flight (EmbedBenchmark); the queue
        // holds them with room for the second slot.
        InferenceConfig config =
                runtime.applyTo(InferenceConfig.builder())
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.BATCH_SIZE, batchSize)
                        .set(InferenceOptions.CAPACITY, 2 * batchSize)
                        .set(InferenceOptions.QUEUE_CAPACITY, 8 * batchSize)
                        .build();
        PrintWriter out = spec.commandLine().getOut();
        try (PrintStream stream = printStreamOn(out)) {
            EmbedBenchmark.run(config, batches, rounds, stream);
        }
        return 0;
    }

    /** Writes a benchmark's figures as indented JSON to {@code file} (its --summary-json). */
    static void writeSummary(java.nio.file.Path file, Object figures) throws java.io.IOException {
        new com.fasterxml.jackson.databind.ObjectMapper()
                .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValue(file.toFile(), figures);
    }

    /** A PrintStream that hands every flushed line to {@code out}, so tests can capture it. */
    static PrintStream printStreamOn(PrintWriter out) {
        OutputStream bytes =
                new OutputStream() {
                    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

                    @Override
                    public void write(int b) {
                        pending.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        pending.write(b, off, len);
                    }

                    @Override
                    public void flush() {
                        out.print(pending.toString(StandardCharsets.UTF_8));
                        out.flush();
                        pending.reset();
                    }
                };
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
