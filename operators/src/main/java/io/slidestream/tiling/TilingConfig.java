package io.slidestream.tiling;

import io.slidestream.errors.InvalidConfig;
import io.slidestream.errors.SlideStreamException;
import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * The validated, immutable settings of the tiling stage (see {@link TilingOptions} for the meaning
 * of each value). Built once at job start with {@link #builder()} or {@link #fromConfiguration};
 * every check runs in {@link Builder#build()} and a bad value fails with {@code INVALID_CONFIG}
 * naming the key and the value. Serializable so operators can carry it.
 */
public final class TilingConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    static final int MAX_TILE_PX = 16384;
    static final int MAX_MASK_DOWNSAMPLE = 4096;
    static final int MAX_MEDIAN_KERNEL = 255;
    static final int MAX_CLOSE_KERNEL = 255;
    static final double MAX_MPP_TOLERANCE = 0.1;
    static final int MAX_EMIT_CHUNK = 1 << 20;

    private final double targetMpp;
    private final int tilePx;
    private final int stridePx;
    private final double tissueThreshold;
    private final int maskDownsample;
    private final int medianKernel;
    private final int closeKernel;
    private final int minSaturation;
    private final double mppTolerance;
    private final int emitChunk;
    private final Duration scanMemory;
    private final int maxActiveSlides;
    private final int maxTilesInFlight;

    private TilingConfig(Builder b) {
        this.targetMpp = b.targetMpp;
        this.tilePx = b.tilePx;
        this.stridePx = b.stridePx == 0 ? b.tilePx : b.stridePx;
        this.tissueThreshold = b.tissueThreshold;
        this.maskDownsample = b.maskDownsample;
        this.medianKernel = b.medianKernel;
        this.closeKernel = b.closeKernel;
        this.minSaturation = b.minSaturation;
        this.mppTolerance = b.mppTolerance;
        this.emitChunk = b.emitChunk;
        this.scanMemory = b.scanMemory;
        this.maxActiveSlides = b.maxActiveSlides;
        this.maxTilesInFlight = b.maxTilesInFlight;
    }

    /** The defaults of {@link TilingOptions}. */
    public static TilingConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads every {@link TilingOptions} key from {@code conf} (absent keys take their defaults).
     *
     * @throws SlideStreamException {@code INVALID_CONFIG} when a value does not parse or is out of
     *     range
     */
    public static TilingConfig fromConfiguration(Configuration conf) {
        Objects.requireNonNull(conf, "conf");
        return builder()
                .targetMpp(read(conf, TilingOptions.TARGET_MPP))
                .tilePx(read(conf, TilingOptions.TILE_PX))
                .stridePx(read(conf, TilingOptions.STRIDE_PX))
                .tissueThreshold(read(conf, TilingOptions.TISSUE_THRESHOLD))
                .maskDownsample(read(conf, TilingOptions.MASK_DOWNSAMPLE))
                .medianKernel(read(conf, TilingOptions.MEDIAN_KERNEL))
                .closeKernel(read(conf, TilingOptions.CLOSE_KERNEL))
                .minSaturation(read(conf, TilingOptions.MIN_SATURATION))
                .mppTolerance(read(conf, TilingOptions.MPP_TOLERANCE))
                .emitChunk(read(conf, TilingOptions.EMIT_CHUNK))
                .scanMemory(read(conf, TilingOptions.SCAN_MEMORY))
                .maxActiveSlides(read(conf, TilingOptions.MAX_ACTIVE_SLIDES))
                .maxTilesInFlight(read(conf, TilingOptions.MAX_TILES_IN_FLIGHT))
                .build();
    }

    private static <T> T read(Configuration conf, ConfigOption<T> option) {
        try {
            return conf.get(option);
        } catch (IllegalArgumentException e) {
            throw InvalidConfig.of(
                    option,
                    conf.toMap().get(option.key()),
                    "cannot be read (" + e.getMessage() + "); " + option.description());
        }
    }

    /** Target resolution in micrometres per pixel. */
    public double targetMpp() {
        return targetMpp;
    }

    /** Tile edge in pixels at the target resolution. */
    public int tilePx() {
        return tilePx;
    }

    /** Step between tiles in pixels at the target resolution (resolved: never 0). */
    public int stridePx() {
        return stridePx;
    }

    /** Lowest tissue fraction (0..1) a kept tile has. */
    public double tissueThreshold() {
        return tissueThreshold;
    }

    /** Downsample of the tissue mask relative to level 0. */
    public int maskDownsample() {
        return maskDownsample;
    }

    /** Median filter edge (odd; 1 = off). */
    public int medianKernel() {
        return medianKernel;
    }

    /** Closing structuring element edge (0 = off). */
    public int closeKernel() {
        return closeKernel;
    }

    /** Lowest saturation threshold (0..255). */
    public int minSaturation() {
        return minSaturation;
    }

    /** Relative tolerance for resolution and downsample comparisons. */
    public double mppTolerance() {
        return mppTolerance;
    }

    /** Tile tasks the planner emits per step before handing the task thread back. */
    public int emitChunk() {
        return emitChunk;
    }

    /** How long the planner remembers each slide's latest scan. */
    public Duration scanMemory() {
        return scanMemory;
    }

    /** Slides a planner subtask emits tasks for at the same time; the others wait in order. */
    public int maxActiveSlides() {
        return maxActiveSlides;
    }

    /**
     * Tile tasks the job lets be between the planner and the end of the embed stage; 0 for {@link
     * TilingOptions#MAX_TILES_IN_FLIGHT}'s default, sized from the embed stage.
     */
    public int maxTilesInFlight() {
        return maxTilesInFlight;
    }

    /** A builder holding this config's values, to derive a variant. */
    public Builder toBuilder() {
        return new Builder()
                .targetMpp(targetMpp)
                .tilePx(tilePx)
                .stridePx(stridePx)
                .tissueThreshold(tissueThreshold)
                .maskDownsample(maskDownsample)
                .medianKernel(medianKernel)
                .closeKernel(closeKernel)
                .minSaturation(minSaturation)
                .mppTolerance(mppTolerance)
                .emitChunk(emitChunk)
                .scanMemory(scanMemory)
                .maxActiveSlides(maxActiveSlides)
                .maxTilesInFlight(maxTilesInFlight);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TilingConfig)) {
            return false;
        }
        TilingConfig c = (TilingConfig) o;
        return Double.compare(targetMpp, c.targetMpp) == 0
                && tilePx == c.tilePx
                && stridePx == c.stridePx
                && Double.compare(tissueThreshold, c.tissueThreshold) == 0
                && maskDownsample == c.maskDownsample
                && medianKernel == c.medianKernel
                && closeKernel == c.closeKernel
                && minSaturation == c.minSaturation
                && Double.compare(mppTolerance, c.mppTolerance) == 0
                && emitChunk == c.emitChunk
                && scanMemory.equals(c.scanMemory)
                && maxActiveSlides == c.maxActiveSlides
                && maxTilesInFlight == c.maxTilesInFlight;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                targetMpp,
                tilePx,
                stridePx,
                tissueThreshold,
                maskDownsample,
                medianKernel,
                closeKernel,
                minSaturation,
                mppTolerance,
                emitChunk,
                scanMemory,
                maxActiveSlides,
                maxTilesInFlight);
    }

    @Override
    public String toString() {
        return "TilingConfig{targetMpp="
                + targetMpp
                + ", tilePx="
                + tilePx
                + ", stridePx="
                + stridePx
                + ", tissueThreshold="
                + tissueThreshold
                + ", maskDownsample="
                + maskDownsample
                + ", medianKernel="
                + medianKernel
                + ", closeKernel="
                + closeKernel
                + ", minSaturation="
                + minSaturation
                + ", mppTolerance="
                + mppTolerance
                + ", emitChunk="
                + emitChunk
                + ", scanMemory="
                + scanMemory
                + ", maxActiveSlides="
                + maxActiveSlides
                + ", maxTilesInFlight="
                + maxTilesInFlight
                + '}';
    }

    /** Collects values (defaults from {@link TilingOptions}); {@link #build()} validates them. */
    public static final class Builder {
        private double targetMpp = TilingOptions.TARGET_MPP.defaultValue();
        private int tilePx = TilingOptions.TILE_PX.defaultValue();
        private int stridePx = TilingOptions.STRIDE_PX.defaultValue();
        private double tissueThreshold = TilingOptions.TISSUE_THRESHOLD.defaultValue();
        private int maskDownsample = TilingOptions.MASK_DOWNSAMPLE.defaultValue();
        private int medianKernel = TilingOptions.MEDIAN_KERNEL.defaultValue();
        private int closeKernel = TilingOptions.CLOSE_KERNEL.defaultValue();
        private int minSaturation = TilingOptions.MIN_SATURATION.defaultValue();
        private double mppTolerance = TilingOptions.MPP_TOLERANCE.defaultValue();
        private int emitChunk = TilingOptions.EMIT_CHUNK.defaultValue();
        private Duration scanMemory = TilingOptions.SCAN_MEMORY.defaultValue();
        private int maxActiveSlides = TilingOptions.MAX_ACTIVE_SLIDES.defaultValue();
        private int maxTilesInFlight = TilingOptions.MAX_TILES_IN_FLIGHT.defaultValue();

        private Builder() {}

        public Builder targetMpp(double targetMpp) {
            this.targetMpp = targetMpp;
            return this;
        }

        public Builder tilePx(int tilePx) {
            this.tilePx = tilePx;
            return this;
        }

        /** 0 means "equal to the tile size". */
        public Builder stridePx(int stridePx) {
            this.stridePx = stridePx;
            return this;
        }

        public Builder tissueThreshold(double tissueThreshold) {
            this.tissueThreshold = tissueThreshold;
            return this;
        }

        public Builder maskDownsample(int maskDownsample) {
            this.maskDownsample = maskDownsample;
            return this;
        }

        public Builder medianKernel(int medianKernel) {
            this.medianKernel = medianKernel;
            return this;
        }

        public Builder closeKernel(int closeKernel) {
            this.closeKernel = closeKernel;
            return this;
        }

        public Builder minSaturation(int minSaturation) {
            this.minSaturation = minSaturation;
            return this;
        }

        public Builder mppTolerance(double mppTolerance) {
            this.mppTolerance = mppTolerance;
            return this;
        }

        public Builder emitChunk(int emitChunk) {
            this.emitChunk = emitChunk;
            return this;
        }

        public Builder scanMemory(Duration scanMemory) {
            this.scanMemory = scanMemory;
            return this;
        }

        public Builder maxActiveSlides(int maxActiveSlides) {
            this.maxActiveSlides = maxActiveSlides;
            return this;
        }

        public Builder maxTilesInFlight(int maxTilesInFlight) {
            this.maxTilesInFlight = maxTilesInFlight;
            return this;
        }

        /**
         * @throws SlideStreamException {@code INVALID_CONFIG} naming the first bad key and value
         */
        public TilingConfig build() {
            check(
                    Double.isFinite(targetMpp) && targetMpp > 0,
                    TilingOptions.TARGET_MPP,
                    targetMpp,
                    "a resolution in micrometres per pixel greater than 0, e.g. 0.5 for 20x");
            check(
                    tilePx >= 1 && tilePx <= MAX_TILE_PX,
                    TilingOptions.TILE_PX,
                    tilePx,
                    "a tile edge in pixels from 1 to " + MAX_TILE_PX + ", e.g. 256");
            check(
                    stridePx >= 0 && stridePx <= MAX_TILE_PX,
                    TilingOptions.STRIDE_PX,
                    stridePx,
                    "a step in pixels from 1 to " + MAX_TILE_PX + ", or 0 for the tile size");
            check(
                    tissueThreshold >= 0 && tissueThreshold <= 1,
                    TilingOptions.TISSUE_THRESHOLD,
                    tissueThreshold,
                    "a fraction from 0 to 1, e.g. 0.25");
            check(
                    maskDownsample >= 1 && maskDownsample <= MAX_MASK_DOWNSAMPLE,
                    TilingOptions.MASK_DOWNSAMPLE,
                    maskDownsample,
                    "a downsample from 1 to " + MAX_MASK_DOWNSAMPLE + ", e.g. 64");
            check(
                    medianKernel >= 1 && medianKernel <= MAX_MEDIAN_KERNEL && medianKernel % 2 == 1,
                    TilingOptions.MEDIAN_KERNEL,
                    medianKernel,
                    "an odd kernel edge from 1 (off) to " + MAX_MEDIAN_KERNEL + ", e.g. 7");
            check(
                    closeKernel >= 0 && closeKernel <= MAX_CLOSE_KERNEL,
                    TilingOptions.CLOSE_KERNEL,
                    closeKernel,
                    "a kernel edge from 0 (off) to " + MAX_CLOSE_KERNEL + ", e.g. 4");
            check(
                    minSaturation >= 0 && minSaturation <= 255,
                    TilingOptions.MIN_SATURATION,
                    minSaturation,
                    "a saturation from 0 to 255, e.g. 8");
            check(
                    mppTolerance >= 0 && mppTolerance <= MAX_MPP_TOLERANCE,
                    TilingOptions.MPP_TOLERANCE,
                    mppTolerance,
                    "a relative tolerance from 0 to " + MAX_MPP_TOLERANCE + ", e.g. 0.01");
            check(
                    emitChunk >= 1 && emitChunk <= MAX_EMIT_CHUNK,
                    TilingOptions.EMIT_CHUNK,
                    emitChunk,
                    "a number of tile tasks from 1 to " + MAX_EMIT_CHUNK + ", e.g. 256");
            check(
                    scanMemory != null && !scanMemory.isNegative() && !scanMemory.isZero(),
                    TilingOptions.SCAN_MEMORY,
                    scanMemory,
                    "a duration greater than 0, e.g. 30 d");
            check(
                    maxActiveSlides >= 1,
                    TilingOptions.MAX_ACTIVE_SLIDES,
                    maxActiveSlides,
                    "a number of slides of at least 1, e.g. 2");
            check(
                    maxTilesInFlight >= 0,
                    TilingOptions.MAX_TILES_IN_FLIGHT,
                    maxTilesInFlight,
                    "a number of tile tasks of at least 1, or 0 for twice inference.capacity per"
                            + " embed subtask");
            return new TilingConfig(this);
        }

        private static void check(
                boolean ok, ConfigOption<?> option, Object value, String expected) {
            InvalidConfig.check(ok, option, value, expected);
        }
    }
}
