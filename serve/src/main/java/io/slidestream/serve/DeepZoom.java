package io.slidestream.serve;

/**
 * The Deep Zoom (DZI) pyramid of a slide, as OpenSeadragon reads it: level {@code maxLevel} is the
 * slide at full size, each level below halves it, down to 1 x 1 pixel at level 0; each level is cut
 * into {@value #TILE} px tiles with {@value #OVERLAP} px of overlap on every inner edge. Pure
 * arithmetic: which level-0 rectangle a tile covers and how big its image is.
 */
record DeepZoom(long width, long height) {
    static final int TILE = 254;
    static final int OVERLAP = 1;

    int maxLevel() {
        long longest = Math.max(width, height);
        return longest <= 1 ? 0 : 64 - Long.numberOfLeadingZeros(longest - 1);
    }

    /** Downsample of {@code level} against level 0 of the slide. */
    long scale(int level) {
        return 1L << (maxLevel() - level);
    }

    long levelWidth(int level) {
        return Math.max(1, (width + scale(level) - 1) / scale(level));
    }

    long levelHeight(int level) {
        return Math.max(1, (height + scale(level) - 1) / scale(level));
    }

    /** One tile: its rectangle at its level, and the level-0 rectangle that is read for it. */
    record Tile(
            long x, long y, int width, int height, long x0, long y0, long width0, long height0) {}

    /** Tile ({@code column}, {@code row}) of {@code level}, or null when it does not exist. */
    Tile tile(int level, long column, long row) {
        if (level < 0 || level > maxLevel() || column < 0 || row < 0) {
            return null;
        }
        long w = levelWidth(level);
        long h = levelHeight(level);
        if (column > w / TILE + 1 || row > h / TILE + 1) {
            return null; // also keeps the products below from overflowing
        }
        long x = column * TILE - (column == 0 ? 0 : OVERLAP);
        long y = row * TILE - (row == 0 ? 0 : OVERLAP);
        if (x >= w || y >= h) {
            return null;
        }
        long right = Math.min(w, (column + 1) * TILE + OVERLAP);
        long bottom = Math.min(h, (row + 1) * TILE + OVERLAP);
        long s = scale(level);
        long x0 = x * s;
        long y0 = y * s;
        return new Tile(
                x,
                y,
                (int) (right - x),
                (int) (bottom - y),
                x0,
                y0,
                Math.min(width, right * s) - x0,
                Math.min(height, bottom * s) - y0);
    }

    String xml() {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\" Format=\"jpeg\""
                + " Overlap=\""
                + OVERLAP
                + "\" TileSize=\""
                + TILE
                + "\"><Size Width=\""
                + width
                + "\" Height=\""
                + height
                + "\"/></Image>\n";
    }
}
