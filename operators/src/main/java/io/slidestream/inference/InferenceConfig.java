package io.slidestream.inference;

import static io.slidestream.settings.ConfigBuilder.read;
import static io.slidestream.settings.ConfigBuilder.readOptional;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.settings.ConfigBuilder;
import java.io.Serializable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated inference settings ({@link InferenceOptions}): model files, batching, timeouts and
 * the execution provider. Each component is the key of the same name; the file components {@code
 * model}, {@code tensorrtCache}, {@code tileHead} and {@code slideHead} hold the configured path
 * (null when unset) and are read as paths through {@link #modelPath()} and the other path getters.
 * Every bad value fails in the constructor with {@code INVALID_CONFIG} naming the key and the
 * value. Serializable, so operators carry it to the task managers.
 */
public record InferenceConfig(
        String model,
        int batchSize,
        Duration maxWait,
        Duration timeout,
        int capacity,
        int readerThreads,
        int queueCapacity,
        ExecutionProvider provider,
        int deviceId,
        int intraOpThreads,
        boolean intraOpSpinning,
        boolean tensorrtFp16,
        String tensorrtCache,
        String tileHead,
        String slideHead,
        boolean warmUp)
        implements Serializable {

    public InferenceConfig {
        if (model == null || model.isBlank()) {
            throw InvalidConfig.of(
                    InferenceOptions.MODEL_PATH,
                    model,
                    "is not set: point it at an ONNX model (tools/export_onnx.py exports GPFM)");
        }
        atLeast(InferenceOptions.BATCH_SIZE, batchSize, 1);
        atLeast(InferenceOptions.CAPACITY, capacity, 1);
        atLeast(InferenceOptions.READER_THREADS, readerThreads, 1);
        atLeast(InferenceOptions.QUEUE_CAPACITY, queueCapacity, 1);
        atLeast(InferenceOptions.DEVICE_ID, deviceId, 0);
        atLeast(InferenceOptions.INTRA_OP_THREADS, intraOpThreads, 0);
        if (provider == null) {
            throw InvalidConfig.of(InferenceOptions.PROVIDER, null, "is not set");
        }
        if (maxWait == null || maxWait.isNegative()) {
            throw InvalidConfig.of(InferenceOptions.MAX_WAIT, maxWait, "must be zero or positive");
        }
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            throw InvalidConfig.of(InferenceOptions.TIMEOUT, timeout, "must be positive");
        }
        if (queueCapacity < capacity) {
            throw InvalidConfig.of(
                    InferenceOptions.QUEUE_CAPACITY,
                    queueCapacity,
                    "is smaller than inference.capacity="
                            + capacity
                            + ": one subtask alone could overflow the engine's queue;"
                            + " raise it to at least (subtasks per TaskManager) x"
                            + " inference.capacity");
        }
        tensorrtCache = blankToNull(tensorrtCache);
        tileHead = blankToNull(tileHead);
        slideHead = blankToNull(slideHead);
    }

    /** Reads every {@code inference.*} key; unset keys take their defaults. */
    public static InferenceConfig from(ReadableConfig conf) {
        return new InferenceConfig(
                readOptional(conf, InferenceOptions.MODEL_PATH),
                read(conf, InferenceOptions.BATCH_SIZE),
                read(conf, InferenceOptions.MAX_WAIT),
                read(conf, InferenceOptions.TIMEOUT),
                read(conf, InferenceOptions.CAPACITY),
                read(conf, InferenceOptions.READER_THREADS),
                read(conf, InferenceOptions.QUEUE_CAPACITY),
                ExecutionProvider.parse(read(conf, InferenceOptions.PROVIDER)),
                read(conf, InferenceOptions.DEVICE_ID),
                read(conf, InferenceOptions.INTRA_OP_THREADS),
                read(conf, InferenceOptions.INTRA_OP_SPINNING),
                read(conf, InferenceOptions.TENSORRT_FP16),
                readOptional(conf, InferenceOptions.TENSORRT_CACHE_DIR),
                readOptional(conf, InferenceOptions.TILE_HEAD_PATH),
                readOptional(conf, InferenceOptions.SLIDE_HEAD_PATH),
                read(conf, InferenceOptions.WARM_UP));
    }

    /** Keys set in code, read and checked as {@link #from} does. */
    public static ConfigBuilder<InferenceConfig> builder() {
        return new ConfigBuilder<>(InferenceConfig::from);
    }

    /** A builder preset with this config's values, for variations (other batch size, ...). */
    public ConfigBuilder<InferenceConfig> toBuilder() {
        Configuration c = new Configuration();
        c.set(InferenceOptions.MODEL_PATH, model);
        c.set(InferenceOptions.BATCH_SIZE, batchSize);
        c.set(InferenceOptions.MAX_WAIT, maxWait);
        c.set(InferenceOptions.TIMEOUT, timeout);
        c.set(InferenceOptions.CAPACITY, capacity);
        c.set(InferenceOptions.READER_THREADS, readerThreads);
        c.set(InferenceOptions.QUEUE_CAPACITY, queueCapacity);
        c.set(InferenceOptions.PROVIDER, provider.key());
        c.set(InferenceOptions.DEVICE_ID, deviceId);
        c.set(InferenceOptions.INTRA_OP_THREADS, intraOpThreads);
        c.set(InferenceOptions.INTRA_OP_SPINNING, intraOpSpinning);
        c.set(InferenceOptions.TENSORRT_FP16, tensorrtFp16);
        return new ConfigBuilder<>(InferenceConfig::from, c)
                .set(InferenceOptions.TENSORRT_CACHE_DIR, tensorrtCache)
                .set(InferenceOptions.TILE_HEAD_PATH, tileHead)
                .set(InferenceOptions.SLIDE_HEAD_PATH, slideHead)
                .set(InferenceOptions.WARM_UP, warmUp);
    }

    public Path modelPath() {
        return Paths.get(model);
    }

    public Optional<Path> tensorrtCacheDir() {
        return Optional.ofNullable(tensorrtCache).map(Paths::get);
    }

    public Optional<Path> tileHeadPath() {
        return Optional.ofNullable(tileHead).map(Paths::get);
    }

    public Optional<Path> slideHeadPath() {
        return Optional.ofNullable(slideHead).map(Paths::get);
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
                        ? "fp16=" + tensorrtFp16 + ",cache=" + tensorrtCache
                        : "",
                "batch=" + batchSize,
                "wait=" + maxWait.toNanos(),
                "queue=" + queueCapacity);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static void atLeast(ConfigOption<Integer> option, int value, int min) {
        if (value < min) {
            throw InvalidConfig.of(option, value, "must be at least " + min);
        }
    }
}
