package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilePlan;
import io.slidestream.tiling.TilePlanOverlay;
import io.slidestream.tiling.TilingConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream tiles SLIDE}: opens a slide, picks the read level for the target resolution,
 * finds the tissue and prints the tile plan (a summary, or one JSON object with {@code --json}). A
 * slide without tissue prints its (empty) plan and exits with {@code NO_TISSUE}.
 */
@Command(
        name = "tiles",
        mixinStandardHelpOptions = true,
        description = {
            "Plan the tissue tiles of a slide: level, read size, tissue mask, tile grid.",
            "Tissue is found as CLAM does (HSV saturation, median blur, Otsu, closing), which is"
                    + " made for brightfield stains on bright glass. On fluorescence or dark-field"
                    + " scans dark background counts as tissue: the plan then carries a warning."
        })
final class TilesCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "SLIDE", description = "The slide file (any format OpenSlide reads).")
    String slide;

    @Mixin SlideOptions slideOptions;

    @Option(names = "--json", description = "Print one JSON object instead of a summary.")
    boolean json;

    @Option(
            names = "--overlay",
            paramLabel = "OUT.png",
            description = "Write a thumbnail with the tissue mask and the kept tiles drawn on it.")
    Path overlay;

    @Override
    public Integer call() throws Exception {
        TilingConfig tiling = slideOptions.tilingConfig();
        PlannedSlide planned =
                PlannedSlide.plan(slideOptions.opener(), slide, tiling, slideOptions.defaultMpp());
        TilePlan plan = planned.plan();
        if (overlay != null) {
            TilePlanOverlay.write(plan, overlay);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(
                    new ObjectMapper()
                            .enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(toJson(planned)));
        } else {
            printSummary(out, planned);
        }
        out.flush();
        if (plan.outcome() == TilePlan.Outcome.NO_TISSUE) {
            throw plan.noTissueError();
        }
        return 0;
    }

    static ObjectNode toJson(PlannedSlide planned) {
        SlideMetadata meta = planned.metadata();
        TilePlan plan = planned.plan();
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("vendor", meta.vendor());
        root.putArray("dimensions").add(meta.width()).add(meta.height());
        root.put("mpp", meta.mpp());
        root.put("mpp_source", meta.mppSource().name().toLowerCase(Locale.ROOT));
        root.put("target_mpp", plan.targetMpp());
        root.put("read_level", plan.readLevel());
        root.put("read_px", plan.readPx());
        root.put("tile_px", plan.tilePx());
        root.put("stride_px", plan.stridePx());
        root.put("grid_tile_count", plan.gridTileCount());
        root.put("tissue_tile_count", plan.tissueTileCount());
        root.put("outcome", plan.outcome().name());
        ArrayNode warnings = root.putArray("warnings");
        plan.warnings().forEach(warnings::add);
        ArrayNode tiles = root.putArray("tiles");
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            ObjectNode t = tiles.addObject();
            t.put("x", plan.tileX(i));
            t.put("y", plan.tileY(i));
            // Three decimals are plenty for a fraction measured on a 1/64 mask.
            t.put("tissue", Math.round(plan.tileTissue(i) * 1000.0) / 1000.0);
        }
        return root;
    }

    private void printSummary(PrintWriter out, PlannedSlide planned) {
        SlideMetadata meta = planned.metadata();
        TilePlan plan = planned.plan();
        out.printf(
                Locale.ROOT,
                "%s: %s, %d x %d px, %d levels, %.4f um/px (%s)%n",
                slide,
                meta.vendor(),
                meta.width(),
                meta.height(),
                meta.levelCount(),
                meta.mpp(),
                meta.mppSource().name().toLowerCase(Locale.ROOT));
        out.printf(
                Locale.ROOT,
                "plan: %d px tiles at %.3f um/px, read %d px at level %d (downsample %.3f)%n",
                plan.tilePx(),
                plan.targetMpp(),
                plan.readPx(),
                plan.readLevel(),
                meta.level(plan.readLevel()).downsample());
        out.printf(
                Locale.ROOT,
                "tissue: %d of %d grid tiles at or above %.2f tissue%n",
                plan.tissueTileCount(),
                plan.gridTileCount(),
                plan.tissueThreshold());
        for (String warning : plan.warnings()) {
            out.println("warning: " + warning);
        }
        if (overlay != null) {
            out.println("overlay: " + overlay);
        }
    }
}
