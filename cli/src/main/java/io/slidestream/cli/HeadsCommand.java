package io.slidestream.cli;

import io.slidestream.aggregate.AggregateConfig;
import io.slidestream.config.KafkaConfig;
import io.slidestream.heads.ArchiveRescore;
import io.slidestream.heads.HeadReports;
import io.slidestream.heads.HeadRollout;
import io.slidestream.heads.HeadScorer;
import io.slidestream.heads.HeadTrainer;
import io.slidestream.heads.StoredBags;
import io.slidestream.inference.HeadCard;
import io.slidestream.sink.IcebergConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code slidestream heads}: slide heads a lab trains on its own labelled slides. */
@Command(
        name = "heads",
        mixinStandardHelpOptions = true,
        description = "Train slide heads on the stored embeddings and the lab's labels.",
        subcommands = {
            HeadsCommand.Train.class,
            HeadsCommand.Predict.class,
            HeadsCommand.Rescore.class,
            HeadsCommand.Deploy.class,
            HeadsCommand.Retire.class
        })
final class HeadsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code heads train}: a gated ABMIL from the stored bags and a labels CSV. */
    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            description =
                    "Train a gated ABMIL slide head on the stored bags of the labelled slides,"
                            + " report K-fold cross-validation, and write DIR/head.onnx (the job's"
                            + " slide-head contract) with its card DIR/head.json.")
    static final class Train implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Option(
                names = "--labels",
                required = true,
                paramLabel = "FILE.csv",
                description = "Header slide_id,label; one row per slide; any number of classes.")
        Path labels;

        @Option(
                names = "--out",
                required = true,
                paramLabel = "DIR",
                description = "Where to write.")
        Path out;

        @Option(
                names = "--task",
                paramLabel = "NAME",
                description = "The head's task (default: the labels file's name).")
        String task;

        @Option(
                names = "--model-id",
                paramLabel = "ID",
                description = "Whose embeddings (default: the store's only model).")
        String modelId;

        @Option(
                names = "--folds",
                defaultValue = "5",
                description = "Cross-validation folds (default: ${DEFAULT-VALUE}).")
        int folds;

        @Option(
                names = "--seed",
                defaultValue = "0",
                description = "Seed of folds, sampling and weights (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(
                names = "--epochs",
                defaultValue = "20",
                description = "Training epochs (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(
                names = "--python",
                defaultValue = "/usr/bin/python3",
                description =
                        "Python with torch, onnx and h5py that trains (default: ${DEFAULT-VALUE}).")
        Path python;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            IcebergConfig iceberg = IcebergConfig.from(stores.require());
            HeadTrainer.Result result;
            try (StoredBags store = StoredBags.open(iceberg)) {
                result =
                        HeadTrainer.train(
                                store,
                                new HeadTrainer.Request(
                                        labels, this.out, task, modelId, folds, seed, epochs,
                                        python),
                                out);
            }
            HeadReports.trained(result, out);
            return 0;
        }
    }

    /** {@code heads predict}: a trained head over the stored slides of its model. */
    @Command(
            name = "predict",
            mixinStandardHelpOptions = true,
            description =
                    "Predict with a trained head for the stored slides of its model, from their"
                            + " stored embeddings (no slide re-read, no re-embedding), and print"
                            + " slide, label, probability and the most-attended tile.")
    static final class Predict implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Mixin ScoredSlides scored;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            IcebergConfig iceberg = IcebergConfig.from(stores.require());
            try (HeadScorer scorer = HeadScorer.open(scored.head);
                    StoredBags store = StoredBags.open(iceberg)) {
                List<StoredBags.StoredSlide> chosen = scorer.select(store, scored.slides);
                out.printf(
                        "Head %s (%s) on %d slides of model %s%n",
                        scorer.card().headId(),
                        String.join(", ", scorer.card().classes()),
                        chosen.size(),
                        scorer.card().modelId());
                HeadReports.Table table = new HeadReports.Table(out);
                scorer.score(store, chosen, table::row);
                table.finish(chosen.size());
            }
            return 0;
        }
    }

    /** {@code heads rescore}: the head's predictions for the archive, into the slides table. */
    @Command(
            name = "rescore",
            mixinStandardHelpOptions = true,
            description =
                    "Predict with a trained head for every stored slide of its model from the"
                            + " stored embeddings and write its rows into the slides table beside"
                            + " the other heads' (idempotent: a slide already scored by this head"
                            + " is left alone).")
    static final class Rescore implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin StoreOptions stores;

        @Mixin ScoredSlides scored;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            org.apache.flink.configuration.Configuration conf = stores.require();
            IcebergConfig iceberg = IcebergConfig.from(conf);
            int topK = AggregateConfig.from(conf).topK();
            try (HeadScorer scorer = HeadScorer.open(scored.head);
                    StoredBags store = StoredBags.open(iceberg)) {
                List<StoredBags.StoredSlide> chosen = scorer.select(store, scored.slides);
                out.printf(
                        "Re-scoring %d slides of model %s with head %s (%s)%n",
                        chosen.size(),
                        scorer.card().modelId(),
                        scorer.card().headId(),
                        String.join(", ", scorer.card().classes()));
                HeadReports.Table table = new HeadReports.Table(out);
                ArchiveRescore.Summary summary =
                        ArchiveRescore.run(iceberg, store, scorer, chosen, topK, table::row);
                table.finish(summary.scored());
                out.printf(
                        "Wrote %d rows of head %s into %s.%s; %d slides already had one;"
                                + " %d without a result of the job to build on%s%n",
                        summary.written(),
                        scorer.card().headId(),
                        iceberg.namespace(),
                        iceberg.slidesTable(),
                        summary.unchanged(),
                        summary.withoutResult().size(),
                        summary.withoutResult().isEmpty()
                                ? ""
                                : " (" + String.join(", ", summary.withoutResult()) + ")");
            }
            return 0;
        }
    }

    /** Which head ({@code --head DIR}) over which slides ({@code --slides}): predict, rescore. */
    static final class ScoredSlides {
        @Option(
                names = "--head",
                required = true,
                paramLabel = "DIR",
                description = "The folder `heads train --out` wrote.")
        Path head;

        @Option(
                names = "--slides",
                split = ",",
                paramLabel = "ID",
                description = "Only these slides (default: every slide of the head's model).")
        List<String> slides;
    }

    /** {@code heads deploy}: a trained head goes live in the running job. */
    @Command(
            name = "deploy",
            mixinStandardHelpOptions = true,
            description =
                    "Announce a trained head to the running job (kafka.topic.heads): from then on"
                            + " every new slide of its model gets its prediction too, without a"
                            + " restart. DIR must be readable by every TaskManager (shared storage,"
                            + " as slide files).")
    static final class Deploy implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin JobConfigOptions config;

        @Parameters(paramLabel = "DIR", description = "The folder `heads train --out` wrote.")
        Path head;

        @Override
        public Integer call() {
            HeadCard card = rollout(config).deploy(head);
            spec.commandLine()
                    .getOut()
                    .printf(
                            "Head %s (%s) announced for model %s: every later slide of that model"
                                    + " gets its prediction%n",
                            card.headId(), String.join(", ", card.classes()), card.modelId());
            return 0;
        }
    }

    /** {@code heads retire}: a live head predicts no more. */
    @Command(
            name = "retire",
            mixinStandardHelpOptions = true,
            description = "Tell the running job to stop predicting with a deployed head.")
    static final class Retire implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin JobConfigOptions config;

        @Parameters(paramLabel = "HEAD_ID", description = "The head's id (its card's head_id).")
        String headId;

        @Override
        public Integer call() {
            rollout(config).retire(headId);
            spec.commandLine().getOut().printf("Head %s retired%n", headId);
            return 0;
        }
    }

    private static HeadRollout rollout(JobConfigOptions options) {
        KafkaConfig kafka = KafkaConfig.from(options.load());
        return new HeadRollout(
                kafka.bootstrapServers(),
                kafka.headsTopic(),
                kafka.clientPropertiesAsProperties(),
                java.time.Duration.ofSeconds(30));
    }
}
