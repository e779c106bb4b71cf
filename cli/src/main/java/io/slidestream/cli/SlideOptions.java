package io.slidestream.cli;

import io.slidestream.slide.SlideOpener;
import io.slidestream.tiling.TilingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import picocli.CommandLine.Option;

/** Options shared by every command that opens and tiles slides. */
final class SlideOptions {

    @Option(
            names = "--target-mpp",
            paramLabel = "M",
            description = "Target resolution in micrometres per pixel (default: 0.5).")
    Double targetMpp;

    @Option(
            names = "--tile-px",
            paramLabel = "N",
            description = "Tile edge in pixels at the target resolution (default: 256).")
    Integer tilePx;

    @Option(
            names = "--stride-px",
            paramLabel = "N",
            description = "Step between tiles at the target resolution (default: the tile size).")
    Integer stridePx;

    @Option(
            names = "--tissue-threshold",
            paramLabel = "F",
            description = "Keep tiles with at least this tissue fraction (default: 0.25).")
    Double tissueThreshold;

    @Option(
            names = "--default-mpp",
            paramLabel = "M",
            description =
                    "Resolution to assume for slides that record none (otherwise they fail with"
                            + " UNKNOWN_RESOLUTION).")
    Double defaultMpp;

    @Option(
            names = "--allowed-root",
            paramLabel = "DIR",
            description =
                    "Only open slides under this folder (repeatable; default: any path on the"
                            + " command line).")
    List<Path> allowedRoots = new ArrayList<>();

    TilingConfig tilingConfig() {
        TilingConfig.Builder b = TilingConfig.builder();
        if (targetMpp != null) {
            b.targetMpp(targetMpp);
        }
        if (tilePx != null) {
            b.tilePx(tilePx);
        }
        if (stridePx != null) {
            b.stridePx(stridePx);
        }
        if (tissueThreshold != null) {
            b.tissueThreshold(tissueThreshold);
        }
        return b.build();
    }

    SlideOpener opener() {
        return allowedRoots.isEmpty()
                ? SlideOpener.unrestricted()
                : SlideOpener.builder().allowedRoots(allowedRoots).build();
    }

    OptionalDouble defaultMpp() {
        return defaultMpp == null ? OptionalDouble.empty() : OptionalDouble.of(defaultMpp);
    }
}
