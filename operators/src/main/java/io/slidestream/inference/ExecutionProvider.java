package io.slidestream.inference;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.Locale;

/** Where ONNX Runtime runs the model ({@code inference.provider}). */
public enum ExecutionProvider {
    /** ONNX Runtime's CPU kernels, with {@code inference.intra-op-threads} threads. */
    CPU("cpu"),
    /** NVIDIA CUDA on device {@code inference.device-id}; needs the {@code gpu} Maven profile. */
    CUDA("cuda"),
    /**
     * NVIDIA TensorRT on device {@code inference.device-id} (CUDA for the nodes TensorRT does not
     * take), optional fp16 and engine cache; needs the {@code gpu} Maven profile.
     */
    TENSORRT("tensorrt");

    private final String key;

    ExecutionProvider(String key) {
        this.key = key;
    }

    /** The configuration value: {@code cpu}, {@code cuda} or {@code tensorrt}. */
    public String key() {
        return key;
    }

    public boolean isGpu() {
        return this != CPU;
    }

    /** Parses a configuration value (case-insensitive); names the key and the value when bad. */
    public static ExecutionProvider parse(String value) {
        if (value != null) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            for (ExecutionProvider p : values()) {
                if (p.key.equals(v)) {
                    return p;
                }
            }
        }
        throw new SlideStreamException(
                ErrorCode.INVALID_REQUEST,
                "inference.provider='"
                        + value
                        + "' is not a known execution provider: use cpu, cuda or tensorrt");
    }

    @Override
    public String toString() {
        return key;
    }
}
