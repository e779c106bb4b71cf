package io.slidestream.tiling;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Draws a {@link TilePlan} for people: the low-resolution slide image the mask was computed from,
 * scaled so its longer edge is {@code maxEdge} pixels, tissue tinted green, and every kept tile
 * outlined in blue. Used by {@code slidestream tiles --overlay OUT.png}. Stateless.
 */
public final class TilePlanOverlay {

    /** Longer edge of the rendered image unless told otherwise. */
    public static final int DEFAULT_MAX_EDGE = 1024;

    static final int TISSUE_TINT = 0x00C850;
    static final float TISSUE_ALPHA = 0.35f;
    static final Color TILE_OUTLINE = new Color(0x1E50FF);

    private TilePlanOverlay() {}

    /** Renders {@code plan} with its longer edge {@link #DEFAULT_MAX_EDGE} pixels. */
    public static BufferedImage render(TilePlan plan) {
        return render(plan, DEFAULT_MAX_EDGE);
    }

    /** Renders {@code plan} with its longer edge {@code maxEdge} pixels (upscaling small masks). */
    public static BufferedImage render(TilePlan plan, int maxEdge) {
        if (maxEdge < 1) {
            throw new IllegalArgumentException("maxEdge must be positive: " + maxEdge);
        }
        TissueMask mask = plan.mask();
        int mw = mask.width();
        int mh = mask.height();
        double f = maxEdge / (double) Math.max(mw, mh);
        int ow = (int) Math.max(1, Math.round(mw * f));
        int oh = (int) Math.max(1, Math.round(mh * f));

        BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(
                    RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(mask.image(), 0, 0, ow, oh, null);
        } finally {
            g.dispose();
        }

        // tint by the mask pixel under each output pixel: the blocks show the mask's real grain
        int[] row = new int[ow];
        int[] maskColumn = new int[ow];
        for (int x = 0; x < ow; x++) {
            maskColumn[x] = Math.min(mw - 1, (int) (x / f));
        }
        for (int y = 0; y < oh; y++) {
            int my = Math.min(mh - 1, (int) (y / f));
            out.getRGB(0, y, ow, 1, row, 0, ow);
            for (int x = 0; x < ow; x++) {
                if (mask.isTissue(maskColumn[x], my)) {
                    row[x] = blend(row[x], TISSUE_TINT, TISSUE_ALPHA);
                }
            }
            out.setRGB(0, y, ow, 1, row, 0, ow);
        }

        g = out.createGraphics();
        try {
            g.setColor(TILE_OUTLINE);
            g.setStroke(new BasicStroke(1f));
            double kx = f / mask.scaleX();
            double ky = f / mask.scaleY();
            long span = plan.span0();
            for (int i = 0; i < plan.tissueTileCount(); i++) {
                int x0 = (int) Math.round(plan.tileX(i) * kx);
                int y0 = (int) Math.round(plan.tileY(i) * ky);
                int x1 = (int) Math.round((plan.tileX(i) + span) * kx);
                int y1 = (int) Math.round((plan.tileY(i) + span) * ky);
                g.drawRect(x0, y0, Math.max(1, x1 - x0 - 1), Math.max(1, y1 - y0 - 1));
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * Renders {@code plan} and writes it as a PNG to {@code out}, creating parent folders.
     *
     * @throws SlideStreamException {@code INVALID_REQUEST} when the file cannot be written
     */
    public static void write(TilePlan plan, Path out) {
        BufferedImage image = render(plan);
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (!ImageIO.write(image, "png", out.toFile())) {
                throw new UncheckedIOException(new IOException("no PNG writer in this JVM"));
            }
        } catch (IOException | UncheckedIOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    String.format(
                            "cannot write the overlay to %s (%s); choose a writable path ending"
                                    + " in .png",
                            out, e.getMessage()),
                    e);
        }
    }

    private static int blend(int rgb, int tint, float alpha) {
        int r = mix((rgb >>> 16) & 0xFF, (tint >>> 16) & 0xFF, alpha);
        int g = mix((rgb >>> 8) & 0xFF, (tint >>> 8) & 0xFF, alpha);
        int b = mix(rgb & 0xFF, tint & 0xFF, alpha);
        return (r << 16) | (g << 8) | b;
    }

    private static int mix(int base, int tint, float alpha) {
        return Math.round(base + (tint - base) * alpha);
    }
}
