package io.slidestream.inference;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The {@code inference.*} configuration keys. Read once into an {@link InferenceConfig}, which
 * validates them; operators get the typed config, never a raw {@code Configuration}.
 */
public final class InferenceOptions {

    public static final ConfigOption<String> MODEL_PATH =
            ConfigOptions.key("inference.model-path")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The ONNX embedding model (NCHW float input, [N, D] output), for"
                                    + " example one exported by tools/export_onnx.py. A model card"
                                    + " <name>.card.json beside it is read when present.");

    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("inference.batch-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription(
                            "Largest batch the micro-batcher forms from single tiles before it"
                                    + " runs the model.");

    public static final ConfigOption<Duration> MAX_WAIT =
            ConfigOptions.key("inference.max-wait")
                    .durationType()
                    .defaultValue(Duration.ofMillis(10))
                    .withDescription(
                            "How long the micro-batcher waits for more tiles after the first one"
                                    + " of a batch arrived before it runs a partial batch.");

    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("inference.timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(2))
                    .withDescription(
                            "How long one tile may take from submission to its embedding"
                                    + " (queueing included); a tile over it is emitted as a TIMEOUT"
                                    + " failure, the job goes on. CPU inference of the full GPFM"
                                    + " needs minutes per large batch: size this with the batch.");

    public static final ConfigOption<Integer> CAPACITY =
            ConfigOptions.key("inference.capacity")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "Tiles in flight per embed subtask (the async operator's capacity):"
                                    + " when reached, the operator stops taking input, which is"
                                    + " the stage's backpressure.");

    public static final ConfigOption<Integer> READER_THREADS =
            ConfigOptions.key("inference.reader-threads")
                    .intType()
                    .defaultValue(2)
                    .withDescription(
                            "Threads per embed subtask that read and preprocess tiles before they"
                                    + " go to the model, so reading overlaps inference and never"
                                    + " runs on the task thread. At most inference.capacity tiles"
                                    + " wait for them.");

    public static final ConfigOption<Integer> QUEUE_CAPACITY =
            ConfigOptions.key("inference.queue-capacity")
                    .intType()
                    .defaultValue(1024)
                    .withDescription(
                            "Tiles the shared engine's queue holds. Every subtask that shares the"
                                    + " engine reserves inference.capacity places in it at start;"
                                    + " a subtask that does not fit fails at start, so the queue"
                                    + " never rejects a tile at run time.");

    public static final ConfigOption<String> PROVIDER =
            ConfigOptions.key("inference.provider")
                    .stringType()
                    .defaultValue("cpu")
                    .withDescription(
                            "Execution provider: cpu, cuda or tensorrt. cuda and tensorrt need the"
                                    + " build with the Maven profile gpu (onnxruntime_gpu) and a"
                                    + " node with CUDA 12 and cuDNN 9.");

    public static final ConfigOption<Integer> DEVICE_ID =
            ConfigOptions.key("inference.device-id")
                    .intType()
                    .defaultValue(0)
                    .withDescription("CUDA device for the cuda and tensorrt providers.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS =
            ConfigOptions.key("inference.intra-op-threads")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Threads ONNX Runtime uses inside one operator on the cpu provider;"
                                    + " 0 lets ONNX Runtime choose (one per physical core).");

    public static final ConfigOption<Boolean> INTRA_OP_SPINNING =
            ConfigOptions.key("inference.intra-op-spinning")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Whether ONNX Runtime's intra-op threads spin while waiting for work"
                                    + " (its own default). Off here: between batches spinning"
                                    + " threads take CPU from the tile readers (measured: 0.46 ms"
                                    + " of CPU per tile with a near-zero-cost model, about a"
                                    + " seventh of the pipeline's cost), for a wake-up latency"
                                    + " far below a batch's run time.");

    public static final ConfigOption<Boolean> TENSORRT_FP16 =
            ConfigOptions.key("inference.tensorrt-fp16")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription("Let TensorRT build fp16 kernels (tensorrt provider only).");

    public static final ConfigOption<String> TENSORRT_CACHE_DIR =
            ConfigOptions.key("inference.tensorrt-cache-dir")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Folder where TensorRT keeps its built engines, so a restart does not"
                                    + " rebuild them (minutes for ViT-L); unset: no cache.");

    public static final ConfigOption<String> TILE_HEAD_PATH =
            ConfigOptions.key("inference.tile-head-path")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Optional ONNX tile classifier over embeddings ([N, D] -> [N, C]); its"
                                    + " outputs fill TileEmbedding.headProbabilities.");

    public static final ConfigOption<String> SLIDE_HEAD_PATH =
            ConfigOptions.key("inference.slide-head-path")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Optional ONNX slide head (ABMIL: [tiles, D] -> logits [1, C] and"
                                    + " attention [1, tiles]) run once per slide.");

    public static final ConfigOption<Boolean> WARM_UP =
            ConfigOptions.key("inference.warm-up")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Run one full batch of zeros when the engine starts, so the first"
                                    + " tiles do not pay for kernel selection and allocation.");

    private InferenceOptions() {}
}
