package io.slidestream.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.EmbeddingEngine;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.MicroBatcher;
import io.slidestream.inference.SharedInferenceEngines;
import io.slidestream.inference.TileInference;
import io.slidestream.inference.TileInferenceEngine;
import io.slidestream.inference.TileTensor;
import io.slidestream.local.CpuSampler;
import io.slidestream.schemas.ErrorCode;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Measures what the micro-batcher costs and what sharing the engine saves ({@code slidestream bench
 * embed}). (a) A bare loop of {@code OrtSession.run} on one ready batch tensor; (b) the same
 * session behind the {@link MicroBatcher}, fed single tiles by {@code 2 x batch-size} concurrent
 * callers, same batch size and threads; their ratio b/a (target at least 0.95). Then the peak
 * resident memory (VmHWM) of the process with one subtask holding the shared engine and with a
 * second subtask sharing it: the second must not add a model copy.
 *
 * <p>Each throughput is the best of {@code rounds} alternating measurements, so a noisy neighbour
 * does not decide the ratio. Tiles are seeded pseudo-random CHW tensors.
 */
public final class EmbedBenchmark {

    /** What one benchmark run measured. */
    public static final class Figures {
        public final String modelId;
        public final String provider;
        public final int batchSize;
        public final int callers;
        public final int tilesPerMeasurement;
        public final double bareTilesPerSecond;
        public final double batcherTilesPerSecond;
        public final long modelFileBytes;
        public final long vmHwmBeforeKb;
        public final long vmHwmOneSlotKb;
        public final long vmHwmTwoSlotsKb;
        public final int enginesWithTwoSlots;

        Figures(
                String modelId,
                String provider,
                int batchSize,
                int callers,
                int tilesPerMeasurement,
                double bare,
                double batcher,
                long modelFileBytes,
                long before,
                long oneSlot,
                long twoSlots,
                int engines) {
            this.modelId = modelId;
            this.provider = provider;
            this.batchSize = batchSize;
            this.callers = callers;
            this.tilesPerMeasurement = tilesPerMeasurement;
            this.bareTilesPerSecond = bare;
            this.batcherTilesPerSecond = batcher;
            this.modelFileBytes = modelFileBytes;
            this.vmHwmBeforeKb = before;
            this.vmHwmOneSlotKb = oneSlot;
            this.vmHwmTwoSlotsKb = twoSlots;
            this.enginesWithTwoSlots = engines;
        }

        /** b/a: micro-batcher throughput over the bare session loop. */
        public double ratio() {
            return batcherTilesPerSecond / bareTilesPerSecond;
        }

        /** What the second subtask added to the peak resident memory, in KiB. */
        public long secondSlotKb() {
            return vmHwmTwoSlotsKb - vmHwmOneSlotKb;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "model %s on %s, batch size %d, %d tiles per measurement%n"
                            + "(a) bare OrtSession.run loop:        %9.1f tiles/s%n"
                            + "(b) micro-batcher, %3d callers:     %9.1f tiles/s%n"
                            + "    ratio b/a:                      %9.3f (target >= 0.95)%n"
                            + "peak resident memory (VmHWM): before %d MiB, one slot %d MiB,"
                            + " two slots %d MiB (second slot +%d MiB; model file %d MiB;"
                            + " engines loaded with two slots: %d)",
                    modelId,
                    provider,
                    batchSize,
                    tilesPerMeasurement,
                    bareTilesPerSecond,
                    callers,
                    batcherTilesPerSecond,
                    ratio(),
                    vmHwmBeforeKb / 1024,
                    vmHwmOneSlotKb / 1024,
                    vmHwmTwoSlotsKb / 1024,
                    secondSlotKb() / 1024,
                    modelFileBytes / (1024 * 1024),
                    enginesWithTwoSlots);
        }
    }

    private EmbedBenchmark() {}

    /**
     * Runs the benchmark on {@code config}'s model and settings: {@code batches} batches per
     * measurement, best of {@code rounds}; progress and figures go to {@code out}.
     */
    public static Figures run(InferenceConfig config, int batches, int rounds, PrintStream out)
            throws Exception {
        if (batches < 1 || rounds < 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "batches and rounds must be at least 1");
        }
        long before = CpuSampler.peakRssKb();
        int batchSize = config.batchSize();
        int callers = 2 * batchSize;
        int tiles = batches * batchSize;
        double bare = 0;
        double batched = 0;
        long oneSlot;
        long twoSlots;
        int engines;
        String modelId;
        try (SharedInferenceEngines.Lease slot1 = SharedInferenceEngines.acquire(config)) {
            TileInferenceEngine engine = slot1.engine();
            modelId = engine.modelId();
            EmbeddingEngine embedding = engine.embeddingEngine().orElseThrow();
            List<TileTensor> pool =
                    tilePool(
                            embedding.tileValues(), Math.min(callers, 64), embedding.takesHalves());
            out.printf("benchmarking %s: %d rounds of %d tiles%n", modelId, rounds, tiles);
            for (int r = 0; r < rounds; r++) {
                double a = embedding.model().onRunThread(() -> bareLoop(embedding, pool, batches));
                double b = throughBatcher(List.of(engine), pool, tiles, callers);
                out.printf(
                        Locale.ROOT, "round %d: (a) %.1f tiles/s, (b) %.1f tiles/s%n", r + 1, a, b);
                bare = Math.max(bare, a);
                batched = Math.max(batched, b);
            }
            oneSlot = CpuSampler.peakRssKb();
            try (SharedInferenceEngines.Lease slot2 = SharedInferenceEngines.acquire(config)) {
                engines = SharedInferenceEngines.loadedEngines();
                throughBatcher(List.of(engine, slot2.engine()), pool, tiles, callers);
                twoSlots = CpuSampler.peakRssKb();
            }
        } finally {
            SharedInferenceEngines.closeIdle();
        }
        Figures figures =
                new Figures(
                        modelId,
                        config.provider().key(),
                        batchSize,
                        callers,
                        tiles,
                        bare,
                        batched,
                        Files.size(config.modelPath()),
                        before,
                        oneSlot,
                        twoSlots,
                        engines);
        out.println(figures);
        return figures;
    }

    /**
     * (a): one ready batch tensor, {@code session.run} in a loop; nothing else. Runs on the model's
     * run thread (large stack), as every session call does.
     */
    private static double bareLoop(EmbeddingEngine engine, List<TileTensor> pool, int batches)
            throws OrtException {
        int n = engine.maxBatch();
        long[] shape = {n, engine.channels(), engine.height(), engine.width()};
        ByteBuffer bytes =
                ByteBuffer.allocateDirect(n * engine.tileValues() * (engine.takesHalves() ? 2 : 4))
                        .order(ByteOrder.nativeOrder());
        OrtSession session = engine.model().session();
        OnnxTensor tensor;
        if (engine.takesHalves()) {
            ShortBuffer batch = bytes.asShortBuffer();
            for (int i = 0; i < n; i++) {
                pool.get(i % pool.size()).putHalves(batch);
            }
            tensor =
                    OnnxTensor.createTensor(
                            engine.model().environment(),
                            batch.rewind(),
                            shape,
                            OnnxJavaType.FLOAT16);
        } else {
            FloatBuffer batch = bytes.asFloatBuffer();
            for (int i = 0; i < n; i++) {
                pool.get(i % pool.size()).putFloats(batch);
            }
            tensor = OnnxTensor.createTensor(engine.model().environment(), batch.rewind(), shape);
        }
        try (OnnxTensor input = tensor) {
            var feed = Collections.singletonMap(engine.inputName(), input);
            try (OrtSession.Result warm = session.run(feed)) {
                // The first run after loading pays for allocation; not measured.
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                try (OrtSession.Result r = session.run(feed)) {
                    // Only the time counts.
                }
            }
            return (double) batches * n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * (b): {@code callers} threads submit single tiles, one in flight each, round-robin over
     * engines.
     */
    private static double throughBatcher(
            List<TileInferenceEngine> engines, List<TileTensor> pool, int tiles, int callers)
            throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(callers);
        try {
            // Warm-up: one round of single tiles through every engine.
            for (TileInferenceEngine e : engines) {
                e.submit(pool.get(0)).get(10, TimeUnit.MINUTES);
            }
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < callers; c++) {
                TileInferenceEngine engine = engines.get(c % engines.size());
                done.add(
                        threads.submit(
                                () -> {
                                    for (int i; (i = next.getAndIncrement()) < tiles; ) {
                                        CompletableFuture<TileInference> f =
                                                engine.submit(pool.get(i % pool.size()));
                                        f.get(10, TimeUnit.MINUTES);
                                    }
                                    return null;
                                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            return tiles / ((System.nanoTime() - t0) / 1e9);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Random tiles; float16 (converted once, here) for a model that takes float16. */
    private static List<TileTensor> tilePool(int values, int count, boolean halves) {
        SplittableRandom random = new SplittableRandom(42);
        List<TileTensor> pool = new ArrayList<>(count);
        for (int t = 0; t < count; t++) {
            float[] floats = new float[values];
            for (int i = 0; i < values; i++) {
                floats[i] = (float) (random.nextDouble() * 4 - 2);
            }
            if (halves) {
                short[] bits = new short[values];
                for (int i = 0; i < values; i++) {
                    bits[i] = Fp16Conversions.floatToFp16(floats[i]);
                }
                pool.add(TileTensor.ofHalves(bits));
            } else {
                pool.add(TileTensor.of(floats));
            }
        }
        return pool;
    }

    /** {@code EmbedBenchmark MODEL.onnx [batch-size] [batches] [intra-op-threads]}. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println(
                    "usage: EmbedBenchmark MODEL.onnx [batch-size=16] [batches=20]"
                            + " [intra-op-threads=0]");
            System.exit(2);
        }
        Path model = Paths.get(args[0]);
        int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int batches = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        InferenceConfig config =
                InferenceConfig.builder()
                        .set(InferenceOptions.MODEL_PATH, model)
                        .set(InferenceOptions.BATCH_SIZE, batchSize)
                        .set(InferenceOptions.INTRA_OP_THREADS, threads)
                        .set(InferenceOptions.CAPACITY, 2 * batchSize)
                        .set(InferenceOptions.QUEUE_CAPACITY, 8 * batchSize)
                        .build();
        run(config, batches, 3, System.out);
    }
}
