package io.slidestream.cli;

import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.settings.ConfigBuilder;
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
    ConfigBuilder<InferenceConfig> applyTo(ConfigBuilder<InferenceConfig> builder) {
        return builder.set(InferenceOptions.INTRA_OP_THREADS, threads)
                .set(InferenceOptions.PROVIDER, provider);
    }
}
