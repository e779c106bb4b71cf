package io.slidestream.cli;

import io.slidestream.inference.ExecutionProvider;
import io.slidestream.inference.InferenceConfig;
import picocli.CommandLine.Option;

/** Where the model runs: options shared by every command that runs it in this process. */
final class RuntimeOptions {

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "ONNX Runtime intra-op threads (default: 0, ONNX Runtime's choice).")
    int threads;

    @Option(
            names = "--provider",
            paramLabel = "P",
            description = "Execution provider: cpu, cuda or tensorrt (default: cpu).")
    String provider = "cpu";

    /** Sets the provider and thread count on {@code builder}. */
    InferenceConfig.Builder applyTo(InferenceConfig.Builder builder) {
        return builder.intraOpThreads(threads).provider(ExecutionProvider.parse(provider));
    }
}
