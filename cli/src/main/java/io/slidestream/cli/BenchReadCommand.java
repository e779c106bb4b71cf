package io.slidestream.cli;

import io.slidestream.bench.ReadBenchmark;
import io.slidestream.bench.ReadComparison;
import io.slidestream.preprocess.TilePreprocessor;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TileGeometry;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench read SLIDE}: plans the slide, then prints tiles/s and CPU us per tile
 * for {@code readRegion} alone and for read + preprocess over every tile of the plan's grid (tissue
 * or not), for OpenSlide and for the direct JPEG reader in one run, with each thread count sharing
 * one slide handle, and a summary: CPU per tile of both readers, their ratio, and the cores one
 * H100 would need. The measuring is {@link ReadBenchmark}'s.
 */
@Command(
        name = "read",
        mixinStandardHelpOptions = true,
        description = {
            "Tiles/s and CPU us per tile for reading tiles (readRegion) and for read + preprocess"
                    + " to the model tensor, through OpenSlide and through the direct JPEG reader"
                    + " (slides.reader=auto) on the same tile plan, with threads sharing one slide"
                    + " handle, as the job does. -Dslides.reader=... measures one reader only.",
            "Every grid tile of the plan is read once per pass, tissue or not. Each pass opens a"
                    + " fresh handle, so OpenSlide's tile cache starts empty; the file itself comes"
                    + " from the OS page cache after the first pass."
        })
final class BenchReadCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "SLIDE", description = "The slide file (any format OpenSlide reads).")
    String slide;

    @Mixin SlideOptions slideOptions;

    @Option(
            names = "--threads",
            paramLabel = "N",
            split = ",",
            description = "Thread counts to measure, sharing one handle (default: 1,2).")
    List<Integer> threads = List.of(1, 2);

    @Option(
            names = "--passes",
            paramLabel = "N",
            description =
                    "Measured passes per row, after warm-up passes of at least 1,000 tiles"
                            + " (default: 5).")
    int passes = 5;

    @Option(
            names = "--warm-up-tiles",
            paramLabel = "N",
            description =
                    "Tiles each row reads before it measures, one pass at least (default: 1000;"
                            + " fewer gives a quick check with figures taken before the JIT has"
                            + " compiled the tile path).")
    int warmUpTiles = ReadBenchmark.WARM_UP_TILES;

    @Option(
            names = "--no-float16-costs",
            description =
                    "Leave out what float16 models cost the reader threads (about 10 s of"
                            + " measuring).")
    boolean noFloat16Costs;

    @Option(
            names = "--jpeg-half-scale",
            description =
                    "Also measure slides.jpeg-half-scale: the direct reader decoding JPEG tiles at"
                            + " 1/2 scale (half the read size, then preprocessed), reported as"
                            + " reader 'half'.")
    boolean halfScale;

    @Option(
            names = "--input-px",
            paramLabel = "N",
            description = "Model input size the tiles are preprocessed to (default: 224).")
    int inputPx = TilePreprocessor.DEFAULT_INPUT_SIZE;

    @Override
    public Integer call() {
        SlideOpener opener = slideOptions.opener();
        PlannedSlide planned =
                PlannedSlide.plan(
                        opener, slide, slideOptions.tilingConfig(), slideOptions.defaultMpp());
        TileGeometry g = planned.plan().geometry();
        ReadBenchmark.Tiles tiles =
                ReadBenchmark.Tiles.grid(
                        g.columns(), g.rows(), g.step0(), g.readLevel(), g.readPx());
        List<SlideReader> readers =
                slideOptions.readerGiven()
                        ? List.of(slideOptions.reader())
                        : List.of(SlideReader.OPENSLIDE, SlideReader.AUTO);
        new ReadComparison(slide, opener, readers, threads, passes, halfScale, inputPx, warmUpTiles)
                .float16Costs(!noFloat16Costs)
                .run(planned, tiles, spec.commandLine().getOut());
        return 0;
    }
}
