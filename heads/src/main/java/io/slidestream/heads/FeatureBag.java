package io.slidestream.heads;

import java.time.Instant;

/**
 * One slide's tile embeddings for one model, as the {@code tiles} table holds its latest scan: row
 * {@code i} of {@code features} (N x D, row-major) is the tile whose level-0 top-left corner is
 * ({@code coords[2i]}, {@code coords[2i+1]}) with plan index {@code tileIndices[i]} (ascending; a
 * tile that never arrived leaves a gap), of {@code tileCount} planned. {@code tilePx} is the tile
 * edge at {@code mpp} (the target resolution), {@code extentPx} the same edge in level-0 pixels.
 */
public record FeatureBag(
        String slideId,
        String modelId,
        String uri,
        Instant scannedAt,
        int dimension,
        float[] features,
        long[] coords,
        int[] tileIndices,
        int tileCount,
        int tilePx,
        long extentPx,
        double mpp) {

    /** N, the number of tiles. */
    public int tiles() {
        return coords.length / 2;
    }

    /** Microns per pixel of level 0, from the tile's edge at the target and on level 0. */
    public double level0Mpp() {
        return mpp * tilePx / extentPx;
    }

    /**
     * Objective power of level 0, as TRIDENT records it: 10 / µm per pixel, to the nearest whole
     * number (0.25 µm/px is 40x, 0.5 is 20x).
     */
    public long level0Magnification() {
        return Math.round(10.0 / level0Mpp());
    }

    /** Objective power the tiles were cut at: 10 / the target µm per pixel. */
    public long targetMagnification() {
        return Math.round(10.0 / mpp);
    }
}
