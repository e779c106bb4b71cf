package io.slidestream.it;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import io.slidestream.tiling.TilingConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalDouble;

/**
 * The child process of {@link MutantSlidesITCase}: for each slide path on standard input, does what
 * the job does with a slide - opens it (OpenSlide, the direct reader), reads its metadata, finds
 * the tissue and plans the tiles, then reads up to {@value #TILES} tissue tiles - and prints {@code
 * START i} before and {@code END i OUTCOME} after, OUTCOME being {@code OK}, the slide's error
 * code, or {@code UNCAUGHT} with the exception a job would have failed over on. A crash or a hang
 * shows as a START without its END.
 */
public final class MutantSlideProbe {
    static final int TILES = 64;

    private MutantSlideProbe() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        SlideOpener opener = SlideOpener.unrestricted();
        String line;
        int i = 0;
        while ((line = in.readLine()) != null) {
            out.println("START " + i);
            out.println("END " + i + " " + probe(opener, line));
            i++;
        }
    }

    static String probe(SlideOpener opener, String path) {
        try {
            TilePlan plan =
                    PlannedSlide.plan(opener, path, TilingConfig.defaults(), OptionalDouble.of(0.5))
                            .plan();
            if (plan.outcome() == TilePlan.Outcome.NO_TISSUE) {
                return "NO_TISSUE";
            }
            try (OpenSlide slide = opener.open(path)) {
                int[] rgb = new int[plan.readPx() * plan.readPx()];
                for (int t = 0; t < Math.min(TILES, plan.tissueTileCount()); t++) {
                    slide.readRegion(
                            rgb,
                            plan.tileX(t),
                            plan.tileY(t),
                            plan.readLevel(),
                            plan.readPx(),
                            plan.readPx());
                }
            }
            return "OK";
        } catch (SlideStreamException e) {
            return e.code().name();
        } catch (Throwable e) {
            return "UNCAUGHT "
                    + e.getClass().getName()
                    + ": "
                    + String.valueOf(e.getMessage()).replace('\n', ' ');
        }
    }
}
