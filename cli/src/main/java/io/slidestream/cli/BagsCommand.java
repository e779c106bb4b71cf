package io.slidestream.cli;

import io.slidestream.heads.BagExport;
import io.slidestream.heads.StoredBags;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.local.ProgressReporter;
import io.slidestream.sink.IcebergConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code slidestream bags}: the stored tile embeddings as feature bags for the field's tools. */
@Command(
        name = "bags",
        mixinStandardHelpOptions = true,
        description = "Feature bags of the stored slides, in TRIDENT's .h5 layout.",
        subcommands = {BagsCommand.Export.class})
final class BagsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code bags export}: one {@code <slide_id>.h5} per slide from the Iceberg tiles table. */
    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description =
                    "Write one <slide_id>.h5 per slide (datasets features [N, D] float32 and coords"
                            + " [N, 2] int64, TRIDENT's attributes) from each slide's latest scan"
                            + " in the Iceberg tiles table.")
    static final class Export implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Option(
                names = "--out",
                required = true,
                paramLabel = "DIR",
                description = "Where to write.")
        Path out;

        @Option(
                names = "--model-id",
                paramLabel = "ID",
                description = "Whose embeddings (default: the store's only model).")
        String modelId;

        @Option(
                names = "--slides",
                split = ",",
                paramLabel = "ID",
                description = "Only these slides (default: every slide of the model).")
        List<String> slides;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            IcebergConfig iceberg = IcebergConfig.from(stores.require());
            try (StoredBags store = StoredBags.open(iceberg)) {
                List<StoredSlide> chosen = BagExport.select(store, modelId, slides);
                ProgressReporter progress =
                        new ProgressReporter(
                                spec.commandLine().getErr(),
                                ProgressReporter.auto(),
                                "slides",
                                chosen.size(),
                                5_000);
                BagExport.Result result =
                        BagExport.write(store, chosen, this.out, bag -> progress.advance());
                progress.finish("bags export");
                out.printf(
                        "Wrote %d bags (%d tiles, D=%d, model %s) to %s%n",
                        result.files().size(),
                        result.tiles(),
                        result.dimension(),
                        result.modelId(),
                        this.out.toAbsolutePath());
            }
            return 0;
        }
    }
}
