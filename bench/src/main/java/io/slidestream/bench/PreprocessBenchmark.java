package io.slidestream.bench;

import ai.onnxruntime.platform.Fp16Conversions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * Measures how many tiles per second {@link TilePreprocessor} turns into tensors on the calling
 * thread, without any slide reading, so {@code slidestream bench read} can put the preprocessing
 * cost beside OpenSlide's read rate. The tile content is a seeded H&amp;E-like texture (smooth
 * colour fields with noise); the work done does not depend on the content.
 *
 * <p>No state is kept between calls. {@code main} prints the rates for 256 and 512 px tiles.
 */
public final class PreprocessBenchmark {

    private PreprocessBenchmark() {}

    /**
     * Tiles per second for preprocessing {@code tilePx x tilePx} tiles to {@code inputSize} on this
     * thread, measured for at least {@code measure} after a warm-up of the same length.
     */
    public static double tilesPerSecond(int tilePx, int inputSize, Duration measure) {
        return measure(tilePx, inputSize, measure).perWallSecond();
    }

    /**
     * Tiles, wall time and this thread's CPU time for preprocessing {@code tilePx x tilePx} tiles
     * to {@code inputSize}, measured for at least {@code measure} after a warm-up of the same
     * length. On a shared machine the CPU-time rate is what one free core would give.
     */
    public static Rate measure(int tilePx, int inputSize, Duration measure) {
        if (tilePx <= 0 || measure.isNegative() || measure.isZero()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "Benchmark needs a positive tile size and duration, got "
                            + tilePx
                            + " px and "
                            + measure);
        }
        TilePreprocessor preprocessor = new TilePreprocessor(inputSize);
        int[] tile = syntheticTile(tilePx, 42L);
        float[] tensor = new float[preprocessor.tensorLength()];
        long budget = measure.toNanos();
        Runnable work = () -> preprocessor.preprocess(tile, tilePx, tilePx, tensor, 0);
        run(work, budget);
        return run(work, budget);
    }

    /**
     * For a model that takes float16, on this thread: CPU microseconds per tile for preprocessing
     * {@code tilePx} tiles to float32 and straight to float16, and for converting one float32
     * tensor to float16 value by value (what the batch thread pays per tile when it is given
     * float32), each measured for at least {@code measure} after a warm-up.
     */
    public static Float16Costs float16Costs(int tilePx, int inputSize, Duration measure) {
        TilePreprocessor preprocessor = new TilePreprocessor(inputSize);
        int[] tile = syntheticTile(tilePx, 42L);
        float[] floats = new float[preprocessor.tensorLength()];
        short[] halves = new short[floats.length];
        long budget = measure.toNanos();
        Runnable toFloats = () -> preprocessor.preprocess(tile, tilePx, tilePx, floats, 0);
        Runnable toHalves = () -> preprocessor.preprocessHalf(tile, tilePx, tilePx, halves, 0);
        Runnable convert =
                () -> {
                    for (int i = 0; i < floats.length; i++) {
                        halves[i] = Fp16Conversions.floatToFp16(floats[i]);
                    }
                };
        double[] micros = new double[3];
        Runnable[] work = {toFloats, toHalves, convert};
        for (int w = 0; w < work.length; w++) {
            run(work[w], budget);
            micros[w] = run(work[w], budget).cpuMicrosPerTile();
        }
        return new Float16Costs(micros[0], micros[1], micros[2]);
    }

    /** CPU microseconds per tile of the three float16 paths, see {@link #float16Costs}. */
    public record Float16Costs(
            double preprocessFloat32, double preprocessFloat16, double convertFloat32) {}

    private static Rate run(Runnable work, long budget) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        boolean cpuTime = threads.isCurrentThreadCpuTimeSupported();
        long cpuStart = cpuTime ? threads.getCurrentThreadCpuTime() : 0;
        long start = System.nanoTime();
        long elapsed;
        long tiles = 0;
        do {
            work.run();
            tiles++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < budget);
        long cpu = cpuTime ? threads.getCurrentThreadCpuTime() - cpuStart : elapsed;
        return new Rate(tiles, elapsed / 1e9, cpu / 1e9);
    }

    /** A measurement: tiles done, wall seconds and CPU seconds of the measuring thread. */
    public record Rate(long tiles, double wallSeconds, double cpuSeconds) {
        public double perWallSecond() {
            return tiles / wallSeconds;
        }

        public double perCpuSecond() {
            return tiles / cpuSeconds;
        }

        public double cpuMicrosPerTile() {
            return cpuSeconds * 1e6 / tiles;
        }
    }

    /** A deterministic pink/purple texture with noise, {@code 0x00RRGGBB}. */
    static int[] syntheticTile(int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] pixels = new int[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double field = 0.5 + 0.5 * Math.sin(x * 0.05) * Math.cos(y * 0.07);
                int noise = random.nextInt(41) - 20;
                int r = clamp((int) (230 - 60 * field) + noise);
                int g = clamp((int) (200 - 120 * field) + noise);
                int b = clamp((int) (225 - 40 * field) + noise);
                pixels[y * size + x] = r << 16 | g << 8 | b;
            }
        }
        return pixels;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** Prints tiles/s for 256 and 512 px tiles to 224 on one thread. */
    public static void main(String[] args) {
        Duration measure = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 3);
        for (int px : new int[] {256, 512, 224}) {
            Rate rate = measure(px, TilePreprocessor.DEFAULT_INPUT_SIZE, measure);
            System.out.printf(
                    "preprocess %d px -> %d: %.0f tiles/s wall, %.0f tiles per CPU second"
                            + " (1 thread)%n",
                    px,
                    TilePreprocessor.DEFAULT_INPUT_SIZE,
                    rate.perWallSecond(),
                    rate.perCpuSecond());
        }
    }
}
