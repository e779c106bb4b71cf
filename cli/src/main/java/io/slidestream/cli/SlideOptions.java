package io.slidestream.cli;

import io.slidestream.config.ConfigLoader;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.tiling.TilingConfig;
import io.slidestream.tiling.TilingOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Mixin;
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

    @Mixin JobConfigOptions config;

    private final List<String> accepted =
            new ArrayList<>(List.of(SlideReader.OPTION.key(), "tiling."));

    /** Lets {@code -D} also set the keys starting with {@code prefix} (search's milvus.*). */
    SlideOptions accepting(String prefix) {
        accepted.add(prefix);
        return this;
    }

    /**
     * The --config file's keys, then the -D keys, which may set only the keys this command uses.
     */
    Configuration configuration() {
        return config.loadOnly(accepted);
    }

    /** Whether {@code -Dslides.reader=...} was given. */
    boolean readerGiven() {
        return ConfigLoader.parseOverrides(config.overrides).containsKey(SlideReader.OPTION.key());
    }

    /** How regions are read: {@code -Dslides.reader=...}, {@code auto} by default. */
    SlideReader reader() {
        return SlideReader.parse(configuration().get(SlideReader.OPTION));
    }

    /** The tiling: the -D tiling.* keys, then the options above. */
    TilingConfig tilingConfig() {
        Configuration conf = configuration();
        if (targetMpp != null) {
            conf.set(TilingOptions.TARGET_MPP, targetMpp);
        }
        if (tilePx != null) {
            conf.set(TilingOptions.TILE_PX, tilePx);
        }
        if (stridePx != null) {
            conf.set(TilingOptions.STRIDE_PX, stridePx);
        }
        if (tissueThreshold != null) {
            conf.set(TilingOptions.TISSUE_THRESHOLD, tissueThreshold);
        }
        return TilingConfig.from(conf);
    }

    SlideOpener opener() {
        SlideReader reader = reader();
        return allowedRoots.isEmpty()
                ? SlideOpener.unrestricted().withReader(reader)
                : SlideOpener.builder().allowedRoots(allowedRoots).reader(reader).build();
    }

    OptionalDouble defaultMpp() {
        return defaultMpp == null ? OptionalDouble.empty() : OptionalDouble.of(defaultMpp);
    }
}
