package io.slidestream.tiling;

import static io.slidestream.errors.InvalidConfig.check;
import static io.slidestream.settings.ConfigBuilder.read;

import io.slidestream.settings.ConfigBuilder;
import java.io.Serializable;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The validated settings of the tiling stage; each component is the {@link TilingOptions} key of
 * the same name (see there for its meaning). {@code stridePx} is resolved: never 0. Every check
 * runs in the constructor and a bad value fails with {@code INVALID_CONFIG} naming the key and the
 * value. Serializable so operators can carry it.
 */
public record TilingConfig(
        double targetMpp,
        int tilePx,
        int stridePx,
        double tissueThreshold,
        int maskDownsample,
        int medianKernel,
        int closeKernel,
        int minSaturation,
        double mppTolerance,
        int emitChunk,
        Duration scanMemory,
        Duration planTimeout,
        int maxActiveSlides,
        int maxTilesInFlight)
        implements Serializable {

    static final int MAX_TILE_PX = 16384;
    static final int MAX_MASK_DOWNSAMPLE = 4096;
    static final int MAX_MEDIAN_KERNEL = 255;
    static final int MAX_CLOSE_KERNEL = 255;
    static final double MAX_MPP_TOLERANCE = 0.1;
    static final int MAX_EMIT_CHUNK = 1 << 20;

    public TilingConfig {
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
        stridePx = stridePx == 0 ? tilePx : stridePx;
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
                planTimeout != null && !planTimeout.isNegative() && !planTimeout.isZero(),
                TilingOptions.PLAN_TIMEOUT,
                planTimeout,
                "a duration greater than 0, e.g. 2 min");
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
    }

    /** Reads every {@link TilingOptions} key from {@code conf}; unset keys take their defaults. */
    public static TilingConfig from(ReadableConfig conf) {
        return new TilingConfig(
                read(conf, TilingOptions.TARGET_MPP),
                read(conf, TilingOptions.TILE_PX),
                read(conf, TilingOptions.STRIDE_PX),
                read(conf, TilingOptions.TISSUE_THRESHOLD),
                read(conf, TilingOptions.MASK_DOWNSAMPLE),
                read(conf, TilingOptions.MEDIAN_KERNEL),
                read(conf, TilingOptions.CLOSE_KERNEL),
                read(conf, TilingOptions.MIN_SATURATION),
                read(conf, TilingOptions.MPP_TOLERANCE),
                read(conf, TilingOptions.EMIT_CHUNK),
                read(conf, TilingOptions.SCAN_MEMORY),
                read(conf, TilingOptions.PLAN_TIMEOUT),
                read(conf, TilingOptions.MAX_ACTIVE_SLIDES),
                read(conf, TilingOptions.MAX_TILES_IN_FLIGHT));
    }

    /** The defaults of {@link TilingOptions}. */
    public static TilingConfig defaults() {
        return builder().build();
    }

    /** Keys set in code, read and checked as {@link #from} does. */
    public static ConfigBuilder<TilingConfig> builder() {
        return new ConfigBuilder<>(TilingConfig::from);
    }

    /** A builder holding this config's values, to derive a variant. */
    public ConfigBuilder<TilingConfig> toBuilder() {
        Configuration c = new Configuration();
        c.set(TilingOptions.TARGET_MPP, targetMpp);
        c.set(TilingOptions.TILE_PX, tilePx);
        c.set(TilingOptions.STRIDE_PX, stridePx);
        c.set(TilingOptions.TISSUE_THRESHOLD, tissueThreshold);
        c.set(TilingOptions.MASK_DOWNSAMPLE, maskDownsample);
        c.set(TilingOptions.MEDIAN_KERNEL, medianKernel);
        c.set(TilingOptions.CLOSE_KERNEL, closeKernel);
        c.set(TilingOptions.MIN_SATURATION, minSaturation);
        c.set(TilingOptions.MPP_TOLERANCE, mppTolerance);
        c.set(TilingOptions.EMIT_CHUNK, emitChunk);
        c.set(TilingOptions.SCAN_MEMORY, scanMemory);
        c.set(TilingOptions.PLAN_TIMEOUT, planTimeout);
        c.set(TilingOptions.MAX_ACTIVE_SLIDES, maxActiveSlides);
        c.set(TilingOptions.MAX_TILES_IN_FLIGHT, maxTilesInFlight);
        return new ConfigBuilder<>(TilingConfig::from, c);
    }
}
