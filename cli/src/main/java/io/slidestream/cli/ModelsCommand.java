package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.local.MilvusLite;
import io.slidestream.local.StoredModels;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.CurrentModel;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code slidestream models}: the models the stores hold, and which one is current. */
@Command(
        name = "models",
        mixinStandardHelpOptions = true,
        description = "The models whose results the stores hold, and the current one.",
        subcommands = {
            ModelsCommand.ListModels.class,
            ModelsCommand.Promote.class,
            ModelsCommand.Drop.class
        })
final class ModelsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code models list}: each model's slides, rows and vectors, read back from the stores. */
    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description =
                    "Each model's slides, result rows, errors, tile rows (Iceberg) and vectors"
                            + " (Milvus), and whether it is current.")
    static final class ListModels implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Override
        public Integer call() {
            Configuration conf = stores.require();
            try (MilvusLite milvus = stores.startDemoMilvus(conf)) {
                List<StoredModels.Holdings> models =
                        StoredModels.list(IcebergConfig.from(conf), MilvusConfig.from(conf));
                PrintWriter out = spec.commandLine().getOut();
                out.printf(
                        Locale.ROOT,
                        "%-32s %8s %8s %7s %10s %10s  %s%n",
                        "MODEL",
                        "SLIDES",
                        "RESULTS",
                        "ERRORS",
                        "TILE_ROWS",
                        "VECTORS",
                        "CURRENT");
                for (StoredModels.Holdings m : models) {
                    out.printf(
                            Locale.ROOT,
                            "%-32s %8d %8d %7d %10d %10d  %s%n",
                            m.modelId(),
                            m.slides(),
                            m.results(),
                            m.errors(),
                            m.tileRows(),
                            m.vectors(),
                            m.current() ? "yes" : "");
                }
                out.flush();
            }
            return 0;
        }
    }

    /** {@code models promote ID}: the current model, switched in one commit. */
    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            description =
                    "Make ID the current model: search, serve and the dashboard use it when no"
                            + " model id is given.")
    static final class Promote implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Parameters(paramLabel = "ID", description = "A model id as `models list` shows it.")
        String modelId;

        @Override
        public Integer call() {
            Configuration conf = stores.require();
            IcebergConfig iceberg = IcebergConfig.from(conf);
            try (MilvusLite milvus = stores.startDemoMilvus(conf)) {
                StoredModels.Holdings held =
                        StoredModels.of(iceberg, MilvusConfig.from(conf), modelId);
                if (held.slides() == 0) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_REQUEST,
                            "model "
                                    + modelId
                                    + " has no results in the stores: backfill it first"
                                    + " (`slidestream backfill --model FILE`), or see `slidestream"
                                    + " models list`");
                }
                CurrentModel.promote(iceberg, modelId);
                spec.commandLine()
                        .getOut()
                        .printf(
                                "current model: %s (%d slides, %d vectors)%n",
                                modelId, held.slides(), held.vectors());
            }
            return 0;
        }
    }

    /** {@code models drop ID --yes}: the model's vectors and rows removed from the stores. */
    @Command(
            name = "drop",
            mixinStandardHelpOptions = true,
            description =
                    "Remove model ID from Milvus (its tile and slide entities) and Iceberg (its"
                            + " tile, slide and error rows); without --yes only say what would go.")
    static final class Drop implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Parameters(paramLabel = "ID", description = "A model id as `models list` shows it.")
        String modelId;

        @Option(names = "--yes", description = "Really remove it.")
        boolean yes;

        @Override
        public Integer call() {
            Configuration conf = stores.require();
            IcebergConfig iceberg = IcebergConfig.from(conf);
            try (MilvusLite milvus = stores.startDemoMilvus(conf)) {
                MilvusConfig milvusConfig = MilvusConfig.from(conf);
                StoredModels.Holdings held = StoredModels.of(iceberg, milvusConfig, modelId);
                String what =
                        String.format(
                                Locale.ROOT,
                                "model %s: %d slides (%d result rows), %d errors, %d tile rows,"
                                        + " %d vectors",
                                modelId,
                                held.slides(),
                                held.results(),
                                held.errors(),
                                held.tileRows(),
                                held.vectors());
                if (!yes) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_REQUEST,
                            what + " would be removed; add --yes to remove it");
                }
                StoredModels.drop(iceberg, milvusConfig, modelId);
                spec.commandLine().getOut().println("removed " + what);
            }
            return 0;
        }
    }
}
