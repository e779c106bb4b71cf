package io.slidestream.inference;

import io.slidestream.errors.InvalidConfig;
import java.io.Serializable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated, immutable inference settings ({@link InferenceOptions}): model files, batching,
 * timeouts and the execution provider. Built once at job start with {@link #builder()} or {@link
 * #fromConfiguration}; every bad value fails there with a message naming the key and the value.
 * Serializable, so operators carry it to the task managers.
 */
public final class InferenceConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String modelPath;
    private final int batchSize;
    private final Duration maxWait;
    private final Duration timeout;
    private final int capacity;
    private final int readerThreads;
    private final int queueCapacity;
    private final ExecutionProvider provider;
    private final int deviceId;
    private final int intraOpThreads;
    private final boolean intraOpSpinning;
    private final boolean tensorrtFp16;
    private final String tensorrtCacheDir;
    private final String tileHeadPath;
    private final String slideHeadPath;
    private final boolean warmUp;

    private InferenceConfig(Builder b) {
        this.modelPath = b.modelPath;
        this.batchSize = b.batchSize;
        this.maxWait = b.maxWait;
        this.timeout = b.timeout;
        this.capacity = b.capacity;
        this.readerThreads = b.readerThreads;
        this.queueCapacity = b.queueCapacity;
        this.provider = b.provider;
        this.deviceId = b.deviceId;
        this.intraOpThreads = b.intraOpThreads;
        this.intraOpSpinning = b.intraOpSpinning;
        this.tensorrtFp16 = b.tensorrtFp16;
        this.tensorrtCacheDir = b.tensorrtCacheDir;
        this.tileHeadPath = b.tileHeadPath;
        this.slideHeadPath = b.slideHeadPath;
        this.warmUp = b.warmUp;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Reads and validates every {@code inference.*} key; unset keys take their defaults. */
    public static InferenceConfig fromConfiguration(ReadableConfig conf) {
        Builder b = builder();
        conf.getOptional(InferenceOptions.MODEL_PATH).ifPresent(b::modelPath);
        b.batchSize(conf.get(InferenceOptions.BATCH_SIZE));
        b.maxWait(conf.get(InferenceOptions.MAX_WAIT));
        b.timeout(conf.get(InferenceOptions.TIMEOUT));
        b.capacity(conf.get(InferenceOptions.CAPACITY));
        b.readerThreads(conf.get(InferenceOptions.READER_THREADS));
        b.queueCapacity(conf.get(InferenceOptions.QUEUE_CAPACITY));
        b.provider(ExecutionProvider.parse(conf.get(InferenceOptions.PROVIDER)));
        b.deviceId(conf.get(InferenceOptions.DEVICE_ID));
        b.intraOpThreads(conf.get(InferenceOptions.INTRA_OP_THREADS));
        b.intraOpSpinning(conf.get(InferenceOptions.INTRA_OP_SPINNING));
        b.tensorrtFp16(conf.get(InferenceOptions.TENSORRT_FP16));
        conf.getOptional(InferenceOptions.TENSORRT_CACHE_DIR).ifPresent(b::tensorrtCacheDir);
        conf.getOptional(InferenceOptions.TILE_HEAD_PATH).ifPresent(b::tileHeadPath);
        conf.getOptional(InferenceOptions.SLIDE_HEAD_PATH).ifPresent(b::slideHeadPath);
        b.warmUp(conf.get(InferenceOptions.WARM_UP));
        return b.build();
    }

    public Path modelPath() {
        return Paths.get(modelPath);
    }

    public int batchSize() {
        return batchSize;
    }

    public Duration maxWait() {
        return maxWait;
    }

    public Duration timeout() {
        return timeout;
    }

    public int capacity() {
        return capacity;
    }

    /** Threads per embed subtask that read and preprocess tiles. */
    public int readerThreads() {
        return readerThreads;
    }

    public int queueCapacity() {
        return queueCapacity;
    }

    public ExecutionProvider provider() {
        return provider;
    }

    public int deviceId() {
        return deviceId;
    }

    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Whether ONNX Runtime's idle intra-op threads spin ({@code inference.intra-op-spinning}). */
    public boolean intraOpSpinning() {
        return intraOpSpinning;
    }

    public boolean tensorrtFp16() {
        return tensorrtFp16;
    }

    public Optional<Path> tensorrtCacheDir() {
        return Optional.ofNullable(tensorrtCacheDir).map(Paths::get);
    }

    public Optional<Path> tileHeadPath() {
        return Optional.ofNullable(tileHeadPath).map(Paths::get);
    }

    public Optional<Path> slideHeadPath() {
        return Optional.ofNullable(slideHeadPath).map(Paths::get);
    }

    public boolean warmUp() {
        return warmUp;
    }

    /** A builder preset with this config's values, for variations (other batch size, ...). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.modelPath = modelPath;
        b.batchSize = batchSize;
        b.maxWait = maxWait;
        b.timeout = timeout;
        b.capacity = capacity;
        b.readerThreads = readerThreads;
        b.queueCapacity = queueCapacity;
        b.provider = provider;
        b.deviceId = deviceId;
        b.intraOpThreads = intraOpThreads;
        b.intraOpSpinning = intraOpSpinning;
        b.tensorrtFp16 = tensorrtFp16;
        b.tensorrtCacheDir = tensorrtCacheDir;
        b.tileHeadPath = tileHeadPath;
        b.slideHeadPath = slideHeadPath;
        b.warmUp = warmUp;
        return b;
    }

    /**
     * What makes two engines interchangeable: the model files, the session settings and the
     * batching. Subtasks whose configs give the same key share one engine in a TaskManager. The
     * timeout, the async capacity and the reader threads are per caller and not part of it.
     */
    String engineKey() {
        return String.join(
                "|",
                modelPath().toAbsolutePath().normalize().toString(),
                String.valueOf(
                        tileHeadPath().map(p -> p.toAbsolutePath().normalize()).orElse(null)),
                provider.key(),
                provider == ExecutionProvider.CPU
                        ? "threads=" + intraOpThreads + ",spin=" + intraOpSpinning
                        : "device=" + deviceId,
                provider == ExecutionProvider.TENSORRT
                        ? "fp16=" + tensorrtFp16 + ",cache=" + tensorrtCacheDir
                        : "",
                "batch=" + batchSize,
                "wait=" + maxWait.toNanos(),
                "queue=" + queueCapacity);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof InferenceConfig)) {
            return false;
        }
        InferenceConfig c = (InferenceConfig) o;
        return engineKey().equals(c.engineKey())
                && timeout.equals(c.timeout)
                && capacity == c.capacity
                && readerThreads == c.readerThreads
                && warmUp == c.warmUp
                && Objects.equals(slideHeadPath, c.slideHeadPath);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelPath, batchSize, provider, capacity);
    }

    @Override
    public String toString() {
        return "InferenceConfig{model="
                + modelPath
                + ", provider="
                + provider
                + (provider.isGpu() ? ", device=" + deviceId : ", threads=" + intraOpThreads)
                + ", batch="
                + batchSize
                + ", maxWait="
                + maxWait
                + ", timeout="
                + timeout
                + ", capacity="
                + capacity
                + ", readers="
                + readerThreads
                + ", queue="
                + queueCapacity
                + (tileHeadPath == null ? "" : ", tileHead=" + tileHeadPath)
                + (slideHeadPath == null ? "" : ", slideHead=" + slideHeadPath)
                + "}";
    }

    /** Defaults in one place ({@link InferenceOptions}); every check in {@link #build()}. */
    public static final class Builder {
        private String modelPath;
        private int batchSize = InferenceOptions.BATCH_SIZE.defaultValue();
        private Duration maxWait = InferenceOptions.MAX_WAIT.defaultValue();
        private Duration timeout = InferenceOptions.TIMEOUT.defaultValue();
        private int capacity = InferenceOptions.CAPACITY.defaultValue();
        private int readerThreads = InferenceOptions.READER_THREADS.defaultValue();
        private int queueCapacity = InferenceOptions.QUEUE_CAPACITY.defaultValue();
        private ExecutionProvider provider =
                ExecutionProvider.parse(InferenceOptions.PROVIDER.defaultValue());
        private int deviceId = InferenceOptions.DEVICE_ID.defaultValue();
        private int intraOpThreads = InferenceOptions.INTRA_OP_THREADS.defaultValue();
        private boolean intraOpSpinning = InferenceOptions.INTRA_OP_SPINNING.defaultValue();
        private boolean tensorrtFp16 = InferenceOptions.TENSORRT_FP16.defaultValue();
        private String tensorrtCacheDir;
        private String tileHeadPath;
        private String slideHeadPath;
        private boolean warmUp = InferenceOptions.WARM_UP.defaultValue();

        private Builder() {}

        public Builder modelPath(Path path) {
            return modelPath(path == null ? null : path.toString());
        }

        public Builder modelPath(String path) {
            this.modelPath = path;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder maxWait(Duration maxWait) {
            this.maxWait = maxWait;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder capacity(int capacity) {
            this.capacity = capacity;
            return this;
        }

        public Builder readerThreads(int readerThreads) {
            this.readerThreads = readerThreads;
            return this;
        }

        public Builder queueCapacity(int queueCapacity) {
            this.queueCapacity = queueCapacity;
            return this;
        }

        public Builder provider(ExecutionProvider provider) {
            this.provider = provider;
            return this;
        }

        public Builder deviceId(int deviceId) {
            this.deviceId = deviceId;
            return this;
        }

        public Builder intraOpSpinning(boolean spinning) {
            this.intraOpSpinning = spinning;
            return this;
        }

        public Builder intraOpThreads(int intraOpThreads) {
            this.intraOpThreads = intraOpThreads;
            return this;
        }

        public Builder tensorrtFp16(boolean tensorrtFp16) {
            this.tensorrtFp16 = tensorrtFp16;
            return this;
        }

        public Builder tensorrtCacheDir(String dir) {
            this.tensorrtCacheDir = dir;
            return this;
        }

        public Builder tileHeadPath(String path) {
            this.tileHeadPath = path;
            return this;
        }

        public Builder tileHeadPath(Path path) {
            return tileHeadPath(path == null ? null : path.toString());
        }

        public Builder slideHeadPath(String path) {
            this.slideHeadPath = path;
            return this;
        }

        public Builder slideHeadPath(Path path) {
            return slideHeadPath(path == null ? null : path.toString());
        }

        public Builder warmUp(boolean warmUp) {
            this.warmUp = warmUp;
            return this;
        }

        public InferenceConfig build() {
            if (modelPath == null || modelPath.isBlank()) {
                throw InvalidConfig.of(
                        InferenceOptions.MODEL_PATH.key(),
                        modelPath,
                        "is not set: point it at an ONNX model (tools/export_onnx.py exports GPFM)");
            }
            tensorrtCacheDir = blankToNull(tensorrtCacheDir);
            tileHeadPath = blankToNull(tileHeadPath);
            slideHeadPath = blankToNull(slideHeadPath);
            atLeast(InferenceOptions.BATCH_SIZE.key(), batchSize, 1);
            atLeast(InferenceOptions.CAPACITY.key(), capacity, 1);
            atLeast(InferenceOptions.READER_THREADS.key(), readerThreads, 1);
            atLeast(InferenceOptions.QUEUE_CAPACITY.key(), queueCapacity, 1);
            atLeast(InferenceOptions.DEVICE_ID.key(), deviceId, 0);
            atLeast(InferenceOptions.INTRA_OP_THREADS.key(), intraOpThreads, 0);
            if (provider == null) {
                throw InvalidConfig.of(InferenceOptions.PROVIDER.key(), null, "is not set");
            }
            if (maxWait == null || maxWait.isNegative()) {
                throw InvalidConfig.of(
                        InferenceOptions.MAX_WAIT.key(), maxWait, "must be zero or positive");
            }
            if (timeout == null || timeout.isZero() || timeout.isNegative()) {
                throw InvalidConfig.of(InferenceOptions.TIMEOUT.key(), timeout, "must be positive");
            }
            if (queueCapacity < capacity) {
                throw InvalidConfig.of(
                        InferenceOptions.QUEUE_CAPACITY.key(),
                        queueCapacity,
                        "is smaller than inference.capacity="
                                + capacity
                                + ": one subtask alone could overflow the engine's queue;"
                                + " raise it to at least (subtasks per TaskManager) x"
                                + " inference.capacity");
            }
            return new InferenceConfig(this);
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s;
        }

        private static void atLeast(String key, int value, int min) {
            if (value < min) {
                throw InvalidConfig.of(key, value, "must be at least " + min);
            }
        }
    }
}
