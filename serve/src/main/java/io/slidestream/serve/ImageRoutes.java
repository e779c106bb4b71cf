package io.slidestream.serve;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideHandleCache;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Pictures of slides, read with OpenSlide from the slide files under the allowed roots: the Deep
 * Zoom pyramid the viewer pans and zooms ({@code GET /api/slides/{id}/dzi} and its tiles under
 * {@code dzi_files/{level}/{col}_{row}.jpeg}), a thumbnail ({@code GET
 * /api/slides/{id}/thumbnail?size=}) and the image of any level-0 region, e.g. a stored tile's
 * ({@code GET /api/slides/{id}/region?x=&y=&extent=&size=}). Each picture is read from the pyramid
 * level closest to its scale and resized; JPEGs are kept in a bounded cache ({@value
 * #CACHED_IMAGES} images).
 */
final class ImageRoutes {
    static final int CACHED_IMAGES = 4096;
    static final int MAX_SIZE = 2048;

    private final ServeStores stores;
    private final SlideRoutes slides;
    private final Map<String, byte[]> cache =
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
                    return size() > CACHED_IMAGES;
                }
            };

    private final ExpensiveRequests expensive;

    /**
     * Most pixels one picture may read from a slide: a region or thumbnail of a slide whose pyramid
     * has no level coarse enough is refused instead of read.
     */
    private final long maxReadPixels;

    ImageRoutes(
            ServeStores stores,
            SlideRoutes slides,
            ExpensiveRequests expensive,
            long maxReadPixels) {
        this.stores = stores;
        this.slides = slides;
        this.expensive = expensive;
        this.maxReadPixels = maxReadPixels;
    }

    void register(Javalin app) {
        app.get("/api/slides/{id}/dzi", this::dzi);
        app.get("/api/slides/{id}/dzi_files/{level}/{tile}", this::dziTile);
        app.get("/api/slides/{id}/thumbnail", ctx -> expensive.run(() -> thumbnail(ctx)));
        app.get("/api/slides/{id}/region", ctx -> expensive.run(() -> region(ctx)));
    }

    private void dzi(Context ctx) {
        String uri = slides.uriOf(Params.slideId(ctx));
        DeepZoom zoom = withSlide(uri, s -> new DeepZoom(s.levelWidth(0), s.levelHeight(0)));
        ctx.contentType("application/xml").result(zoom.xml());
    }

    /** A Deep Zoom tile's name: column_row.jpeg (numbers short enough never to overflow). */
    private static final java.util.regex.Pattern DZI_TILE =
            java.util.regex.Pattern.compile("(\\d{1,9})_(\\d{1,9})\\.jpe?g");

    private void dziTile(Context ctx) {
        String slideId = Params.slideId(ctx);
        String name = ctx.pathParam("tile");
        java.util.regex.Matcher tile = DZI_TILE.matcher(name);
        if (!ctx.pathParam("level").matches("\\d{1,2}") || !tile.matches()) {
            throw ApiError.badRequest(
                    "A Deep Zoom tile is dzi_files/{level}/{column}_{row}.jpeg with a level of at"
                            + " most 2 digits and a column and row of at most 9");
        }
        int level = Integer.parseInt(ctx.pathParam("level"));
        long column = Long.parseLong(tile.group(1));
        long row = Long.parseLong(tile.group(2));
        String uri = slides.uriOf(slideId);
        jpeg(
                ctx,
                uri + "|dzi|" + level + "|" + column + "|" + row,
                () ->
                        withSlide(
                                uri,
                                s -> {
                                    DeepZoom zoom = new DeepZoom(s.levelWidth(0), s.levelHeight(0));
                                    DeepZoom.Tile t = zoom.tile(level, column, row);
                                    if (t == null) {
                                        throw ApiError.notFound(
                                                "NO_SUCH_TILE",
                                                "The Deep Zoom pyramid of slide '"
                                                        + slideId
                                                        + "' has no tile "
                                                        + level
                                                        + "/"
                                                        + column
                                                        + "_"
                                                        + row);
                                    }
                                    return read(
                                            s,
                                            t.x0(),
                                            t.y0(),
                                            t.width0(),
                                            t.height0(),
                                            t.width(),
                                            t.height());
                                }));
    }

    private void thumbnail(Context ctx) {
        int size = Params.bounded(ctx, "size", 512, 16, MAX_SIZE);
        String uri = slides.uriOf(Params.slideId(ctx));
        jpeg(
                ctx,
                uri + "|thumb|" + size,
                () ->
                        withSlide(
                                uri,
                                s -> {
                                    long w = s.levelWidth(0);
                                    long h = s.levelHeight(0);
                                    double f = (double) size / Math.max(w, h);
                                    return read(
                                            s,
                                            0,
                                            0,
                                            w,
                                            h,
                                            (int) Math.max(1, Math.round(w * f)),
                                            (int) Math.max(1, Math.round(h * f)));
                                }));
    }

    private void region(Context ctx) {
        long x = Params.requiredLong(ctx, "x", "the region's left edge, level-0 pixels");
        long y = Params.requiredLong(ctx, "y", "the region's top edge, level-0 pixels");
        long extent = Params.requiredLong(ctx, "extent", "the region's edge, level-0 pixels");
        int size = Params.bounded(ctx, "size", 256, 16, MAX_SIZE);
        if (x < 0 || y < 0 || extent <= 0 || extent > 1L << 20) {
            throw ApiError.badRequest(
                    "The region needs x, y >= 0 and 0 < extent <= 1048576, got x="
                            + x
                            + " y="
                            + y
                            + " extent="
                            + extent);
        }
        String uri = slides.uriOf(Params.slideId(ctx));
        jpeg(
                ctx,
                uri + "|region|" + x + "|" + y + "|" + extent + "|" + size,
                () ->
                        withSlide(
                                uri,
                                s -> {
                                    long w = s.levelWidth(0);
                                    long h = s.levelHeight(0);
                                    if (x >= w || y >= h || extent > Math.max(w, h)) {
                                        throw ApiError.badRequest(
                                                "The region must start inside the slide ("
                                                        + w
                                                        + " x "
                                                        + h
                                                        + " px at level 0) and be no larger than"
                                                        + " it, got x="
                                                        + x
                                                        + " y="
                                                        + y
                                                        + " extent="
                                                        + extent);
                                    }
                                    return read(s, x, y, extent, extent, size, size);
                                }));
    }

    /** Reads level-0 rectangle (x0, y0, w0, h0) from the closest level and resizes it to w x h. */
    private BufferedImage read(OpenSlide slide, long x0, long y0, long w0, long h0, int w, int h) {
        double downsample = Math.max(1.0, Math.min((double) w0 / w, (double) h0 / h));
        int level = slide.bestLevelForDownsample(downsample);
        double ds = slide.levelDownsample(level);
        long rw = (long) Math.max(1, Math.ceil(w0 / ds));
        long rh = (long) Math.max(1, Math.ceil(h0 / ds));
        if (rw * rh > maxReadPixels) {
            throw new ApiError(
                    400,
                    "REGION_TOO_LARGE",
                    "This picture needs "
                            + rw
                            + " x "
                            + rh
                            + " px read at the slide's closest pyramid level (downsample "
                            + Math.round(ds)
                            + "); at most "
                            + maxReadPixels
                            + " px are read per request: ask for a smaller region");
        }
        BufferedImage read = slide.readRegionImage(x0, y0, level, (int) rw, (int) rh);
        if (rw == w && rh == h) {
            return read;
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(
                    RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(read, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private interface SlideCall<T> {
        T apply(OpenSlide slide);
    }

    private <T> T withSlide(String uri, SlideCall<T> call) {
        try (SlideHandleCache.Lease lease = stores.slides().acquire(uri)) {
            try {
                return call.apply(lease.slide());
            } catch (RuntimeException e) {
                if (!(e instanceof ApiError)) {
                    lease.invalidate();
                }
                throw e;
            }
        }
    }

    private interface ImageSource {
        BufferedImage get();
    }

    private void jpeg(Context ctx, String key, ImageSource source) {
        byte[] bytes;
        synchronized (cache) {
            bytes = cache.get(key);
        }
        if (bytes == null) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                ImageIO.write(source.get(), "jpeg", out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bytes = out.toByteArray();
            synchronized (cache) {
                cache.put(key, bytes);
            }
        }
        ctx.header("Cache-Control", "max-age=3600").contentType("image/jpeg").result(bytes);
    }
}
