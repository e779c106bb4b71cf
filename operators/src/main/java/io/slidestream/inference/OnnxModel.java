package io.slidestream.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session over one model file with one float input: the code the embedding engine,
 * the tile head and the slide head share. It opens the file with the configured execution provider,
 * describes the model's inputs and outputs so callers can check their contract, and runs the model
 * from a reusable direct staging buffer (no per-run copy of the input into native memory and no
 * per-run allocation of it). Float16 outputs are widened to float32 at this edge; a float16 input
 * is staged either as float16 bits ({@link #halfInput}, converted by the caller's threads) or as
 * float32 ({@link #input}), converted here.
 *
 * <p>Every session call runs on the model's own thread, whose stack is {@link #RUN_STACK_BYTES}:
 * ONNX Runtime's CPU kernels keep large buffers on the calling thread's stack, and with a batch of
 * 16 tiles of a ViT the JVM died with SIGSEGV on Java's default 1 MiB thread stack (measured here
 * with gpfm-tiny); a Flink task thread or {@code main} cannot be given a larger one.
 *
 * <p>Not thread-safe: {@link #input(int)} and {@link #run} form one call and the staging buffer is
 * reused; the classes built on it serialise their calls. Failures: a missing, unreadable or corrupt
 * file is {@code MODEL_INVALID}; a GPU provider that this build or machine cannot give is {@code
 * INVALID_REQUEST} with what to install; a failed run is {@code INFERENCE_FAILED}.
 */
public final class OnnxModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);

    /** What a GPU node needs: the message of every GPU provider error carries it. */
    static final String GPU_REQUIREMENTS =
            "build with the Maven profile gpu (mvn -Pgpu ..., which swaps in"
                    + " com.microsoft.onnxruntime:onnxruntime_gpu) and run on a node with an NVIDIA"
                    + " driver, CUDA 12 (libcudart.so.12, libcublas.so.12, libcublasLt.so.12,"
                    + " libcurand.so.10, libcufft.so.11) and cuDNN 9 (libcudnn.so.9) on"
                    + " LD_LIBRARY_PATH; tensorrt also needs TensorRT 10 (libnvinfer.so.10)";

    /**
     * Stack reserved for the thread that calls ONNX Runtime. Only touched pages become resident;
     * batch 64 of gpfm-tiny ran with 16 MiB, the rest is headroom for larger models and batches.
     */
    static final long RUN_STACK_BYTES = 256L << 20;

    private final Path path;
    private final OrtEnvironment env;
    private final RunThread runThread;
    private final OrtSession session;
    private final ExecutionProvider provider;
    private final String inputName;
    private final TensorInfo inputInfo;
    private final boolean fp16Input;
    private final List<String> outputNames;
    private final Map<String, NodeInfo> outputInfo;

    /** Direct, native-order staging buffers, grown when a larger input is asked for. */
    private ByteBuffer staging;

    private FloatBuffer stagingFloats;
    private ByteBuffer stagingFp16;

    /** Whether the next run's input was staged as float16 bits ({@link #halfInput}). */
    private boolean stagedHalves;

    private OnnxModel(
            Path path,
            OrtEnvironment env,
            OrtSession session,
            ExecutionProvider provider,
            RunThread runThread)
            throws OrtException {
        this.path = path;
        this.env = env;
        this.session = session;
        this.provider = provider;
        this.runThread = runThread;
        Map<String, NodeInfo> inputs = session.getInputInfo();
        if (inputs.size() != 1) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model "
                            + path
                            + " has "
                            + inputs.size()
                            + " inputs "
                            + describeAll(inputs)
                            + "; expected exactly one float tensor input");
        }
        NodeInfo in = inputs.values().iterator().next();
        this.inputName = in.getName();
        if (!(in.getInfo() instanceof TensorInfo)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model " + path + " input " + inputName + " is not a tensor: " + in.getInfo());
        }
        this.inputInfo = (TensorInfo) in.getInfo();
        this.fp16Input = inputInfo.type == OnnxJavaType.FLOAT16;
        this.outputInfo = session.getOutputInfo();
        this.outputNames = List.copyOf(outputInfo.keySet());
    }

    /**
     * Opens {@code path} with the provider settings of {@code config} (provider, device, threads,
     * TensorRT options).
     */
    public static OnnxModel load(Path path, InferenceConfig config) {
        requireReadableFile(path);
        RunThread thread = new RunThread(path);
        try {
            // Session creation (graph optimisation) needs the large stack as much as a run does.
            return thread.call(() -> create(path, config, thread));
        } catch (RuntimeException | Error e) {
            thread.shutdown();
            throw e;
        }
    }

    private static OnnxModel create(Path path, InferenceConfig config, RunThread thread) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = sessionOptions(config)) {
            OrtSession session;
            try {
                session = env.createSession(path.toString(), options);
            } catch (OrtException e) {
                throw loadFailure(path, config, e);
            }
            try {
                OnnxModel model = new OnnxModel(path, env, session, config.provider(), thread);
                LOG.info(
                        "Loaded ONNX model {} on {}: input {}, outputs {}",
                        path,
                        config.provider(),
                        model.describeInput(),
                        model.describeOutputs());
                return model;
            } catch (OrtException | RuntimeException e) {
                closeQuietly(session);
                if (e instanceof SlideStreamException) {
                    throw (SlideStreamException) e;
                }
                throw new SlideStreamException(
                        ErrorCode.MODEL_INVALID,
                        "cannot read the inputs and outputs of model " + path + ": " + e,
                        e);
            }
        }
    }

    private static void requireReadableFile(Path path) {
        if (!Files.exists(path)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model file "
                            + path.toAbsolutePath()
                            + " does not exist: check inference.model-path (export GPFM with"
                            + " tools/export_onnx.py)");
        }
        if (!Files.isRegularFile(path)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model path " + path.toAbsolutePath() + " is not a regular file");
        }
        if (!Files.isReadable(path)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model file " + path.toAbsolutePath() + " is not readable by this process");
        }
    }

    private static SlideStreamException loadFailure(
            Path path, InferenceConfig config, OrtException e) {
        String msg = String.valueOf(e.getMessage());
        if (config.provider().isGpu()
                && (msg.contains("CUDA") || msg.contains("cuda") || msg.contains(".so"))) {
            return gpuUnavailable(config, "creating the session failed: " + msg, e);
        }
        return new SlideStreamException(
                ErrorCode.MODEL_INVALID,
                "cannot load "
                        + path.toAbsolutePath()
                        + " as an ONNX model ("
                        + msg.strip()
                        + "): is it a complete .onnx file, for example one exported by"
                        + " tools/export_onnx.py?",
                e);
    }

    /** Session options for the configured provider; GPU providers are checked before use. */
    static OrtSession.SessionOptions sessionOptions(InferenceConfig config) {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (!config.intraOpSpinning()) {
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
            }
            switch (config.provider()) {
                case CPU:
                    if (config.intraOpThreads() > 0) {
                        options.setIntraOpNumThreads(config.intraOpThreads());
                    }
                    break;
                case CUDA:
                    requireProvider(config, OrtProvider.CUDA);
                    try {
                        options.addCUDA(config.deviceId());
                    } catch (OrtException | RuntimeException e) {
                        throw gpuUnavailable(config, e.getMessage(), e);
                    }
                    break;
                case TENSORRT:
                    requireProvider(config, OrtProvider.TENSOR_RT);
                    try {
                        OrtTensorRTProviderOptions trt =
                                new OrtTensorRTProviderOptions(config.deviceId());
                        trt.add("trt_fp16_enable", config.tensorrtFp16() ? "1" : "0");
                        if (config.tensorrtCacheDir().isPresent()) {
                            Files.createDirectories(config.tensorrtCacheDir().get());
                            trt.add("trt_engine_cache_enable", "1");
                            trt.add(
                                    "trt_engine_cache_path",
                                    config.tensorrtCacheDir().get().toString());
                        }
                        options.addTensorrt(trt);
                        // Nodes TensorRT does not take fall back to CUDA, not to the CPU.
                        options.addCUDA(config.deviceId());
                    } catch (java.io.IOException e) {
                        throw new SlideStreamException(
                                ErrorCode.INVALID_REQUEST,
                                "inference.tensorrt-cache-dir="
                                        + config.tensorrtCacheDir().get()
                                        + " cannot be created: "
                                        + e.getMessage(),
                                e);
                    } catch (OrtException | RuntimeException e) {
                        if (e instanceof SlideStreamException) {
                            throw e;
                        }
                        throw gpuUnavailable(config, e.getMessage(), e);
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown provider " + config.provider());
            }
            return options;
        } catch (OrtException e) {
            options.close();
            throw new SlideStreamException(
                    ErrorCode.INTERNAL, "cannot set ONNX Runtime session options: " + e, e);
        } catch (RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private static void requireProvider(InferenceConfig config, OrtProvider needed) {
        Set<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        if (!available.contains(needed)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "inference.provider="
                            + config.provider()
                            + " needs the GPU build of ONNX Runtime, but this process runs a"
                            + " build with only "
                            + available
                            + ": "
                            + GPU_REQUIREMENTS
                            + "; or set inference.provider=cpu");
        }
    }

    private static SlideStreamException gpuUnavailable(
            InferenceConfig config, String detail, Throwable cause) {
        return new SlideStreamException(
                ErrorCode.INVALID_REQUEST,
                "inference.provider="
                        + config.provider()
                        + " on device "
                        + config.deviceId()
                        + " could not start ("
                        + String.valueOf(detail).strip()
                        + "): "
                        + GPU_REQUIREMENTS,
                cause);
    }

    public Path path() {
        return path;
    }

    public ExecutionProvider provider() {
        return provider;
    }

    public String inputName() {
        return inputName;
    }

    /** The input shape; -1 marks a dynamic dimension. */
    public long[] inputShape() {
        return inputInfo.getShape();
    }

    public boolean isFloatInput() {
        return inputInfo.type == OnnxJavaType.FLOAT || fp16Input;
    }

    public boolean isFp16Input() {
        return fp16Input;
    }

    public List<String> outputNames() {
        return outputNames;
    }

    /** The shape of output {@code name}, or null when it is not a tensor. */
    public long[] outputShape(String name) {
        NodeInfo n = outputInfo.get(name);
        return n != null && n.getInfo() instanceof TensorInfo
                ? ((TensorInfo) n.getInfo()).getShape()
                : null;
    }

    /** True when output {@code name} is a float32 or float16 tensor. */
    public boolean isFloatOutput(String name) {
        NodeInfo n = outputInfo.get(name);
        if (n == null || !(n.getInfo() instanceof TensorInfo)) {
            return false;
        }
        OnnxJavaType t = ((TensorInfo) n.getInfo()).type;
        return t == OnnxJavaType.FLOAT || t == OnnxJavaType.FLOAT16;
    }

    /** The input as {@code name [d0, d1, ...] type}, for error messages. */
    public String describeInput() {
        return describe(inputName, inputInfo);
    }

    public String describeOutputs() {
        return describeAll(outputInfo);
    }

    public OrtSession session() {
        return session;
    }

    public OrtEnvironment environment() {
        return env;
    }

    /**
     * The staging buffer for the next {@link #run}: position 0, limit {@code values}. Reused
     * between runs; grown only when a larger input is asked for.
     */
    public FloatBuffer input(int values) {
        stage(values);
        stagedHalves = false;
        stagingFloats.clear().limit(values);
        return stagingFloats;
    }

    /**
     * For a float16 model: the staging buffer for the next {@link #run} as float16 bits, position
     * 0, limit {@code values}; run then hands it to ONNX Runtime without a conversion.
     */
    public ShortBuffer halfInput(int values) {
        if (!fp16Input) {
            throw new IllegalStateException(
                    "model " + path.getFileName() + " takes float32 input, not float16");
        }
        stage(values);
        stagedHalves = true;
        return stagingFp16.asShortBuffer().limit(values);
    }

    private void stage(int values) {
        if (stagingFloats == null || stagingFloats.capacity() < values) {
            staging =
                    ByteBuffer.allocateDirect(values * Float.BYTES).order(ByteOrder.nativeOrder());
            stagingFloats = staging.asFloatBuffer();
            stagingFp16 =
                    fp16Input
                            ? ByteBuffer.allocateDirect(values * Short.BYTES)
                                    .order(ByteOrder.nativeOrder())
                            : null;
        }
    }

    /**
     * Runs the model on the staged input (the first {@code product(shape)} values of the buffer
     * {@link #input(int)} returned) and returns the requested outputs, in the order asked, as
     * float32.
     */
    public List<Output> run(long[] shape, List<String> outputs) {
        return onRunThread(() -> runHere(shape, outputs));
    }

    /**
     * Calls {@code work} on the model's run thread (large stack) and waits for it; runs it directly
     * when already there. Runtime exceptions reach the caller unchanged.
     */
    public <T> T onRunThread(Callable<T> work) {
        return runThread.call(work);
    }

    /** A single daemon thread with a {@link #RUN_STACK_BYTES} stack that does all session calls. */
    private static final class RunThread {
        private final Path model;
        private final ExecutorService executor;
        private volatile Thread thread;

        RunThread(Path model) {
            this.model = model;
            this.executor =
                    Executors.newSingleThreadExecutor(
                            r -> {
                                Thread t =
                                        new Thread(
                                                null,
                                                r,
                                                "onnx-run-" + model.getFileName(),
                                                RUN_STACK_BYTES);
                                t.setDaemon(true);
                                thread = t;
                                return t;
                            });
        }

        /** Runs {@code work} there and waits; runtime exceptions reach the caller unchanged. */
        <T> T call(Callable<T> work) {
            if (Thread.currentThread() == thread) {
                try {
                    return work.call();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new SlideStreamException(ErrorCode.INFERENCE_FAILED, e.toString(), e);
                }
            }
            Future<T> result;
            try {
                result = executor.submit(work);
            } catch (RejectedExecutionException e) {
                throw new SlideStreamException(
                        ErrorCode.INFERENCE_FAILED,
                        "model " + model.getFileName() + " is closed",
                        e);
            }
            try {
                return result.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException) {
                    throw (RuntimeException) cause;
                }
                if (cause instanceof Error) {
                    throw (Error) cause;
                }
                throw new SlideStreamException(
                        ErrorCode.INFERENCE_FAILED, String.valueOf(cause), cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.cancel(false);
                throw new SlideStreamException(
                        ErrorCode.INFERENCE_FAILED, "interrupted while waiting for the model", e);
            }
        }

        void shutdown() {
            executor.shutdown();
        }

        boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return executor.awaitTermination(timeout, unit);
        }
    }

    private List<Output> runHere(long[] shape, List<String> outputs) {
        int values = Math.toIntExact(product(shape));
        if (stagingFloats == null || stagingFloats.capacity() < values) {
            throw new IllegalStateException("stage " + values + " input values first");
        }
        try (OnnxTensor tensor = stagedTensor(shape, values);
                OrtSession.Result result =
                        session.run(
                                Collections.singletonMap(inputName, tensor),
                                new LinkedHashSet<>(outputs))) {
            List<Output> out = new ArrayList<>(outputs.size());
            for (String name : outputs) {
                OnnxValue v = result.get(name).orElseThrow();
                OnnxTensor t = (OnnxTensor) v;
                // getFloatBuffer() widens float16 outputs to float32.
                FloatBuffer fb = t.getFloatBuffer();
                float[] data;
                if (fb.hasArray() && fb.arrayOffset() == 0 && fb.array().length == fb.remaining()) {
                    data = fb.array(); // already a fresh copy of the output: keep it
                } else {
                    data = new float[fb.remaining()];
                    fb.get(data);
                }
                out.add(new Output(name, t.getInfo().getShape(), data));
            }
            return out;
        } catch (OrtException | RuntimeException e) {
            throw new SlideStreamException(
                    ErrorCode.INFERENCE_FAILED,
                    "ONNX Runtime failed to run "
                            + path.getFileName()
                            + " on input "
                            + java.util.Arrays.toString(shape)
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }

    private OnnxTensor stagedTensor(long[] shape, int values) throws OrtException {
        if (!fp16Input) {
            // A direct buffer in native order is handed to ONNX Runtime without a copy.
            return OnnxTensor.createTensor(
                    env, stagingFloats.duplicate().position(0).limit(values), shape);
        }
        ShortBuffer half = stagingFp16.asShortBuffer();
        if (!stagedHalves) {
            for (int i = 0; i < values; i++) {
                half.put(i, Fp16Conversions.floatToFp16(stagingFloats.get(i)));
            }
        }
        return OnnxTensor.createTensor(
                env, half.position(0).limit(values), shape, OnnxJavaType.FLOAT16);
    }

    static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    /** One model output: its name, its actual shape in this run and its values, row-major. */
    public static final class Output {
        public final String name;
        public final long[] shape;
        public final float[] values;

        Output(String name, long[] shape, float[] values) {
            this.name = name;
            this.shape = shape;
            this.values = values;
        }
    }

    static String describe(String name, TensorInfo info) {
        String[] names = info.getDimensionNames();
        long[] shape = info.getShape();
        StringBuilder sb = new StringBuilder(name).append(" [");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (shape[i] >= 0) {
                sb.append(shape[i]);
            } else {
                sb.append(
                        names != null && i < names.length && !names[i].isEmpty() ? names[i] : "?");
            }
        }
        String type =
                info.type == OnnxJavaType.FLOAT
                        ? "float32"
                        : info.type.toString().toLowerCase(java.util.Locale.ROOT);
        return sb.append("] ").append(type).toString();
    }

    private static String describeAll(Map<String, NodeInfo> nodes) {
        List<String> parts = new ArrayList<>();
        for (NodeInfo n : nodes.values()) {
            parts.add(
                    n.getInfo() instanceof TensorInfo
                            ? describe(n.getName(), (TensorInfo) n.getInfo())
                            : n.getName() + " " + n.getInfo());
        }
        return String.join(", ", parts);
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("Closing a half-opened ONNX Runtime session failed", e);
        }
    }

    /**
     * Takes no new runs, waits for the running one ({@link #CLOSE_WAIT} at most, well inside
     * Flink's task cancellation timeout of 3 minutes) and closes the session. A session is never
     * closed under a running call, which could crash the process in native code: if the run has not
     * ended by then, or the wait is interrupted, the session is left to the process's end and an
     * error is logged.
     */
    @Override
    public void close() {
        runThread.shutdown();
        boolean idle;
        try {
            idle = runThread.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        if (!idle) {
            LOG.error(
                    "Model {} is still running after {}; its ONNX Runtime session is left open"
                            + " rather than closed under the running call",
                    path,
                    CLOSE_WAIT);
            return;
        }
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("Closing ONNX Runtime session of {} failed", path, e);
        }
    }

    /** The longest {@link #close} waits for a running call. */
    static final java.time.Duration CLOSE_WAIT = java.time.Duration.ofSeconds(60);
}
