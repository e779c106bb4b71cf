package io.slidestream.bench;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.slide.SlideReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Measures how fast tiles come off a slide: tiles per second for {@code readRegion} alone and for
 * read + preprocess ({@link TilePreprocessor}, the GPFM tensor), with several threads sharing ONE
 * {@link OpenSlide} handle, as production shares one handle per slide. This is what {@code
 * slidestream bench read} prints.
 *
 * <p><b>Method.</b> For every (mode, thread count) row the benchmark runs warm-up passes until at
 * least {@value #WARM_UP_TILES} tiles have been read (one pass at least: a plan of 20 tiles of 512
 * px would otherwise be measured before the JIT has finished compiling the resize) and then {@code
 * passes} measured passes. Each pass opens a fresh handle through the supplied opener, so
 * OpenSlide's tile cache starts empty and a pass never re-reads tiles decoded by the pass before
 * (which would turn it into a cache benchmark); the file's bytes still come from the operating
 * system's page cache after the first pass, so the figures are decode-bound, not disk-bound. Only
 * the reads are timed, not opening the handle. The threads take tiles from a shared counter, so a
 * slow tile does not leave a thread idle while another has a queue. Besides the wall-clock rate
 * each pass records the CPU time its threads spent per tile (OpenSlide decodes on the calling
 * thread, so this includes the native decode): on a shared, loaded machine the wall-clock rate
 * falls with the load while the CPU time per tile stays close to the true cost.
 *
 * <p><b>State.</b> None between runs: every run makes its own thread pool and closes every handle
 * it opened. Buffers (one {@code int[]} per thread, one tensor per thread) are allocated once per
 * pass, never per tile. A failing read ends the run with the slide's {@link SlideStreamException}.
 */
public final class ReadBenchmark {

    /** Tiles each row reads before it measures, so that the JIT has compiled the tile path. */
    public static final int WARM_UP_TILES = 1000;

    /** What each tile goes through. */
    public enum Mode {
        /** {@code readRegion} into packed RGB. */
        READ("read"),
        /** {@code readRegion}, then {@link TilePreprocessor} into a CHW float tensor. */
        READ_PREPROCESS("read + preprocess");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        /** A short human-readable name for tables. */
        public String label() {
            return label;
        }
    }

    /**
     * The tiles to read: level-0 top-left corners, the read level and the square read size in
     * pixels of that level.
     */
    public record Tiles(long[] xs, long[] ys, int level, int readPx) {
        public Tiles {
            Objects.requireNonNull(xs, "xs");
            Objects.requireNonNull(ys, "ys");
            if (xs.length != ys.length) {
                throw new IllegalArgumentException(
                        "tile x and y arrays differ in length: " + xs.length + " vs " + ys.length);
            }
            if (level < 0 || readPx <= 0) {
                throw new IllegalArgumentException(
                        "read level must be >= 0 and read size positive, got level "
                                + level
                                + " and "
                                + readPx
                                + " px");
            }
        }

        /**
         * Every tile of a {@code columns x rows} grid with level-0 step {@code step0}, row-major.
         */
        public static Tiles grid(int columns, int rows, long step0, int level, int readPx) {
            int n = Math.multiplyExact(columns, rows);
            long[] xs = new long[n];
            long[] ys = new long[n];
            for (int r = 0, i = 0; r < rows; r++) {
                for (int c = 0; c < columns; c++, i++) {
                    xs[i] = c * step0;
                    ys[i] = r * step0;
                }
            }
            return new Tiles(xs, ys, level, readPx);
        }

        public int count() {
            return xs.length;
        }
    }

    /**
     * The figures of one (mode, thread count) row: per measured pass, the wall-clock tiles per
     * second and the CPU time of all threads per tile in microseconds.
     */
    public record Result(
            Mode mode,
            int threads,
            int tiles,
            double[] passTilesPerSecond,
            double[] passCpuMicrosPerTile) {
        public Result {
            passTilesPerSecond = passTilesPerSecond.clone();
            passCpuMicrosPerTile = passCpuMicrosPerTile.clone();
        }

        /** The median CPU time per tile over the measured passes, in microseconds. */
        public double medianCpuMicrosPerTile() {
            return median(passCpuMicrosPerTile);
        }

        @Override
        public double[] passCpuMicrosPerTile() {
            return passCpuMicrosPerTile.clone();
        }

        /** The median over the measured passes: the figure to quote. */
        public double medianTilesPerSecond() {
            return median(passTilesPerSecond);
        }

        private static double median(double[] values) {
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }

        public double bestTilesPerSecond() {
            return Arrays.stream(passTilesPerSecond).max().orElse(0);
        }

        public double worstTilesPerSecond() {
            return Arrays.stream(passTilesPerSecond).min().orElse(0);
        }

        @Override
        public double[] passTilesPerSecond() {
            return passTilesPerSecond.clone();
        }
    }

    private final Supplier<OpenSlide> opener;
    private final Tiles tiles;
    private final TilePreprocessor preprocessor;
    private final int passes;
    private final boolean halfScale;
    private int warmUpTiles = WARM_UP_TILES;

    /**
     * @param opener opens a fresh handle on the slide for every pass (e.g. {@code () ->
     *     slideOpener.open(path)})
     * @param tiles the tiles each pass reads, every one once
     * @param preprocessor the preprocessing of {@link Mode#READ_PREPROCESS}
     * @param passes measured passes per row (warm-up passes come on top)
     */
    public ReadBenchmark(
            Supplier<OpenSlide> opener, Tiles tiles, TilePreprocessor preprocessor, int passes) {
        this(opener, tiles, preprocessor, passes, false);
    }

    /**
     * As above; with {@code halfScale} every tile is read with {@link
     * OpenSlide#readRegionAtHalfScale} (half the edge, the JPEG tiles decoded at 1/2 scale) and
     * preprocessed from that size.
     */
    public ReadBenchmark(
            Supplier<OpenSlide> opener,
            Tiles tiles,
            TilePreprocessor preprocessor,
            int passes,
            boolean halfScale) {
        this.halfScale = halfScale;
        this.opener = Objects.requireNonNull(opener, "opener");
        this.tiles = Objects.requireNonNull(tiles, "tiles");
        this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        if (passes < 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "the benchmark needs at least 1 pass, got " + passes);
        }
        if (tiles.count() == 0) {
            throw new SlideStreamException(
                    ErrorCode.NO_TISSUE,
                    "the slide has no whole tile to read at this tile size; lower the tile size");
        }
        this.passes = passes;
    }

    /**
     * Reads at least {@code tiles} tiles per row before measuring instead of {@value
     * #WARM_UP_TILES} (one pass at least): fewer for a quick check of a reader, at the cost of
     * figures taken before the JIT has compiled the tile path.
     */
    public ReadBenchmark warmUpTiles(int tiles) {
        if (tiles < 0) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "warm-up tiles must be 0 or more, got " + tiles);
        }
        this.warmUpTiles = tiles;
        return this;
    }

    /** Runs both modes with each thread count, in the order given, modes inner. */
    public List<Result> run(List<Integer> threadCounts) {
        for (int t : threadCounts) {
            if (t < 1) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST, "thread counts must be at least 1, got " + t);
            }
        }
        List<Result> results = new ArrayList<>();
        for (int threads : threadCounts) {
            for (Mode mode : Mode.values()) {
                results.add(run(mode, threads));
            }
        }
        return results;
    }

    /**
     * Warm-up passes per row over a plan of {@code tiles}: {@value #WARM_UP_TILES} tiles, one at
     * least.
     */
    public static int warmUpPasses(int tiles) {
        return warmUpPasses(WARM_UP_TILES, tiles);
    }

    /** Warm-up passes per row to read at least {@code warmUpTiles} of a plan of {@code tiles}. */
    public static int warmUpPasses(int warmUpTiles, int tiles) {
        return Math.max(1, (warmUpTiles + tiles - 1) / Math.max(1, tiles));
    }

    /** One row: {@link #warmUpPasses} warm-up passes, then {@code passes} measured passes. */
    public Result run(Mode mode, int threads) {
        ExecutorService pool =
                Executors.newFixedThreadPool(
                        threads,
                        r -> {
                            Thread t = new Thread(r, "bench-read");
                            t.setDaemon(true);
                            return t;
                        });
        try {
            for (int w = warmUpPasses(warmUpTiles, tiles.count()); w > 0; w--) {
                pass(pool, mode, threads);
            }
            double[] rates = new double[passes];
            double[] cpu = new double[passes];
            for (int p = 0; p < passes; p++) {
                double[] figures = pass(pool, mode, threads);
                rates[p] = figures[0];
                cpu[p] = figures[1];
            }
            return new Result(mode, threads, tiles.count(), rates, cpu);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Reads every tile once through a fresh handle; returns tiles per second and CPU microseconds
     * per tile.
     */
    private double[] pass(ExecutorService pool, Mode mode, int threads) {
        try (OpenSlide slide = opener.get()) {
            AtomicInteger next = new AtomicInteger();
            List<Future<Long>> workers = new ArrayList<>(threads);
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> readTiles(slide, mode, next)));
            }
            long cpuNanos = 0;
            for (Future<Long> worker : workers) {
                cpuNanos += await(worker);
            }
            long elapsed = System.nanoTime() - start;
            return new double[] {tiles.count() * 1e9 / elapsed, cpuNanos / 1e3 / tiles.count()};
        }
    }

    /** Reads tiles until none are left; returns the CPU nanoseconds this thread spent on them. */
    private long readTiles(OpenSlide slide, Mode mode, AtomicInteger next) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long cpuStart = mx.getCurrentThreadCpuTime();
        int px = tiles.readPx();
        int[] rgb = new int[px * px];
        float[] tensor =
                mode == Mode.READ_PREPROCESS ? new float[preprocessor.tensorLength()] : null;
        long[] xs = tiles.xs();
        long[] ys = tiles.ys();
        int level = tiles.level();
        try {
            for (int i = next.getAndIncrement(); i < xs.length; i = next.getAndIncrement()) {
                int edge = px;
                if (!halfScale) {
                    slide.readRegion(rgb, xs[i], ys[i], level, px, px);
                } else {
                    edge = px / 2;
                    if (!slide.readRegionAtHalfScale(rgb, xs[i], ys[i], level, edge, edge)) {
                        throw new SlideStreamException(
                                ErrorCode.INVALID_REQUEST,
                                String.format(
                                        "tile x=%d y=%d of %s cannot be read at half scale: the"
                                                + " level is not JPEG tiles read directly, or the"
                                                + " origin or the read size is odd",
                                        xs[i], ys[i], slide.path()));
                    }
                }
                if (tensor != null) {
                    preprocessor.preprocess(rgb, edge, edge, tensor, 0);
                }
            }
        } catch (RuntimeException e) {
            // Stop the other readers: the pass has failed and its handle is about to close.
            next.set(xs.length);
            throw e;
        }
        return mx.getCurrentThreadCpuTime() - cpuStart;
    }

    private static long await(Future<Long> worker) {
        try {
            return worker.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(
                    ErrorCode.INTERNAL, "the read benchmark was interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("a benchmark reader failed", e.getCause());
        }
    }

    /**
     * The rows of {@code slidestream bench read} for a grid of {@code px} tiles at level 0 of one
     * slide, both readers, without the command line: {@code SLIDE PASSES THREADS PX...} (e.g.
     * {@code slide.svs 3 8 256 512}). It needs only this module's classes and natives, so {@code
     * tools/read-bench-bundle.sh} can carry it to a machine without a JDK or Maven (a GPU node).
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: ReadBenchmark SLIDE PASSES THREADS PX...");
            System.exit(2);
        }
        Path slide = Path.of(args[0]);
        int passes = Integer.parseInt(args[1]);
        List<Integer> threads = List.of(1, Integer.parseInt(args[2]));
        System.out.printf(
                "%s, %d cores, %s%n",
                slide, Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"));
        SlideMetadata meta;
        try (OpenSlide s = OpenSlide.open(slide)) {
            meta = s.metadata(OptionalDouble.empty());
        }
        for (int i = 3; i < args.length; i++) {
            int px = Integer.parseInt(args[i]);
            Tiles tiles =
                    Tiles.grid((int) (meta.width() / px), (int) (meta.height() / px), px, 0, px);
            for (SlideReader reader : List.of(SlideReader.OPENSLIDE, SlideReader.AUTO)) {
                ReadBenchmark bench =
                        new ReadBenchmark(
                                () -> OpenSlide.open(slide, reader),
                                tiles,
                                new TilePreprocessor(TilePreprocessor.DEFAULT_INPUT_SIZE),
                                passes);
                for (Result r : bench.run(threads)) {
                    System.out.printf(
                            Locale.ROOT,
                            "%d px %-9s %-18s %2d threads %8.0f tiles/s %8.0f cpu us/tile%n",
                            px,
                            reader.key(),
                            r.mode().label(),
                            r.threads(),
                            r.medianTilesPerSecond(),
                            r.medianCpuMicrosPerTile());
                }
            }
            PreprocessBenchmark.Float16Costs fp16 =
                    PreprocessBenchmark.float16Costs(
                            px, TilePreprocessor.DEFAULT_INPUT_SIZE, Duration.ofSeconds(2));
            System.out.printf(
                    Locale.ROOT,
                    "%d px preprocess: float32 %.0f, float16 %.0f, float32 -> float16 conversion"
                            + " %.0f cpu us/tile%n",
                    px,
                    fp16.preprocessFloat32(),
                    fp16.preprocessFloat16(),
                    fp16.convertFloat32());
        }
    }
}
