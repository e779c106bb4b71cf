package io.slidestream.slide;

import java.awt.image.BufferedImage;
import java.util.Map;
import java.util.Set;

/**
 * A multi-resolution slide as the tiling and preprocessing code sees it. {@link OpenSlide} is the
 * production implementation; tests may use in-memory images. Implementations are safe for
 * concurrent reads from several threads; {@link #close()} waits for reads in flight.
 *
 * <p>Coordinates {@code x, y} are always level-0 pixels; {@code width, height} are pixels of the
 * level read.
 */
public interface SlideSource extends AutoCloseable {

    /** The OpenSlide vendor ({@code aperio}, {@code generic-tiff}, ...). */
    String vendor();

    int levelCount();

    long levelWidth(int level);

    long levelHeight(int level);

    double levelDownsample(int level);

    /** All slide properties (OpenSlide's property map, unmodifiable). */
    Map<String, String> properties();

    /**
     * Names of the associated images ({@code label}, {@code macro}, {@code thumbnail}, ...); empty
     * when the source has none.
     */
    default Set<String> associatedImageNames() {
        return Set.of();
    }

    /**
     * Reads a region into {@code dest} as packed opaque RGB ({@code 0x00RRGGBB}, row-major, {@code
     * width * height} values). Transparent areas (outside scanned regions) become white.
     *
     * @throws io.slidestream.errors.SlideStreamException with {@code CORRUPT_SLIDE} when the read
     *     fails
     */
    void readRegion(int[] dest, long x, long y, int level, int width, int height);

    /**
     * Convenience: {@link #readRegion(int[], long, long, int, int, int)} into a TYPE_INT_RGB image.
     */
    BufferedImage readRegionImage(long x, long y, int level, int width, int height);

    @Override
    void close();
}
