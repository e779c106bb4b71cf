package io.slidestream.tiling;

import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideMetadata;
import io.slidestream.slide.SlideOpener;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A slide's metadata and its tile plan: what the {@code tiles} command prints and what the job's
 * planning step turns into tile tasks. {@link #plan} opens the slide, resolves its resolution,
 * finds the tissue and plans the grid, then closes the slide again.
 */
public final class PlannedSlide {
    private final SlideMetadata metadata;
    private final TilePlan plan;

    public PlannedSlide(SlideMetadata metadata, TilePlan plan) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.plan = Objects.requireNonNull(plan, "plan");
    }

    /**
     * Opens {@code location} with {@code opener} and plans it.
     *
     * @throws io.slidestream.errors.SlideStreamException with the slide's outcome code when it
     *     cannot be opened, has no known resolution, or cannot be read; a slide without tissue is
     *     not an exception but a plan with outcome {@code NO_TISSUE}
     */
    public static PlannedSlide plan(
            SlideOpener opener, String location, TilingConfig config, OptionalDouble defaultMpp) {
        try (OpenSlide slide = opener.open(location)) {
            SlideMetadata metadata = SlideMetadata.read(slide, location, defaultMpp);
            TilePlan plan = new TilePlanner(config).plan(slide, metadata.mpp());
            return new PlannedSlide(metadata, plan);
        }
    }

    public SlideMetadata metadata() {
        return metadata;
    }

    public TilePlan plan() {
        return plan;
    }
}
