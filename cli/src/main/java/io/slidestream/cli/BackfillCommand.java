package io.slidestream.cli;

import io.slidestream.aggregate.AggregateOptions;
import io.slidestream.config.JobOptions;
import io.slidestream.config.KafkaOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.ModelCard;
import io.slidestream.local.Backfill;
import io.slidestream.local.MilvusLite;
import io.slidestream.local.ProcessPriority;
import io.slidestream.local.ProgressReporter;
import io.slidestream.local.StoredModels;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.sink.CurrentModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream backfill}: embeds the archive again with another model ({@link Backfill}) and
 * prints, read back from the stores, what the model then holds; {@code --promote} makes it the
 * current model afterwards.
 */
@Command(
        name = "backfill",
        customSynopsis = {
            "slidestream backfill (--demo-data DIR | --config FILE) --model NEW.onnx",
            "                     [--from iceberg | --slides-dir DIR] [--since DATE]"
                    + " [--parallelism N] [--promote] [--nice N]"
        },
        mixinStandardHelpOptions = true,
        description =
                "Embed the stored slides (their latest scans, from the Iceberg slides table) or a"
                        + " folder's slides again with another model, into the same tables and"
                        + " Milvus under the new model id, as a Flink job beside the live one."
                        + " Slides that already have a result or error for the model are left out,"
                        + " so a second run or a run after a crash adds nothing.")
final class BackfillCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin StoreOptions stores;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "NEW.onnx",
            description = "The model to embed with (the job's ONNX contract).")
    Path model;

    @Option(
            names = "--from",
            paramLabel = "SOURCE",
            description = "iceberg: the slides the stores hold (default, unless --slides-dir).")
    String from;

    @Option(
            names = "--slides-dir",
            paramLabel = "DIR",
            description = "Embed the slide files in DIR instead of the stored slides.")
    Path slidesDir;

    @Option(
            names = "--since",
            paramLabel = "DATE",
            description =
                    "Only slides scanned on or after DATE (2026-01-31 or 2026-01-31T08:00:00Z).")
    String since;

    @Option(
            names = "--parallelism",
            paramLabel = "N",
            description = "The backfill job's parallelism (default: job.parallelism, else cores).")
    Integer parallelism;

    @Option(names = "--promote", description = "Make the model the current one when done.")
    boolean promote;

    @Option(
            names = "--nice",
            paramLabel = "N",
            defaultValue = "10",
            description =
                    "CPU priority of this process, 0 (as the live job) to 19 (lowest): the backfill"
                            + " takes the CPU a live job on the same host leaves (default:"
                            + " ${DEFAULT-VALUE}).")
    int nice;

    @Override
    public Integer call() throws Exception {
        if (from != null && !from.equalsIgnoreCase("iceberg")) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--from "
                            + from
                            + ": the only source is iceberg; use --slides-dir for a folder");
        }
        if (from != null && slidesDir != null) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "give --from iceberg or --slides-dir, not both");
        }
        if (!Files.isRegularFile(model)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "--model " + model + " is not a file: give the new model's ONNX file");
        }
        Instant after = since == null ? null : parseSince(since);
        if (nice < 0 || nice > 19) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--nice " + nice + ": give 0 (normal) to 19 (lowest)");
        }
        if (nice > 0) {
            // Before any job thread exists: they all inherit it.
            ProcessPriority.lower(nice);
        }
        Configuration conf = stores.require();
        conf.set(InferenceOptions.MODEL_PATH, model.toAbsolutePath().toString());
        // The live job's heads score its model's embeddings; the archive's predictions for the new
        // model come from `heads rescore`.
        conf.removeConfig(InferenceOptions.SLIDE_HEAD_PATH);
        conf.removeConfig(InferenceOptions.TILE_HEAD_PATH);
        conf.set(AggregateOptions.LIVE_HEADS, false);
        if (!conf.contains(KafkaOptions.BOOTSTRAP_SERVERS)) {
            // A backfill reads no topic and writes none (StoreSinks.storesOnly, no live heads):
            // the job's configuration needs a broker address, which is never contacted.
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
        }
        if (parallelism != null) {
            conf.set(JobOptions.PARALLELISM, parallelism);
        }
        Path checkpoints = null;
        if (!conf.contains(JobOptions.CHECKPOINT_DIR)) {
            // The slide windows' state is far more than the JobManager's memory may hold.
            checkpoints = Files.createTempDirectory("slidestream-backfill-");
            conf.set(JobOptions.CHECKPOINT_DIR, checkpoints.toUri().toString());
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        try (MilvusLite milvus = stores.startDemoMilvus(conf)) {
            SlideStreamConfig job = SlideStreamConfig.from(conf);
            String modelId = ModelCard.idOf(model);
            List<SlideScanned> candidates =
                    slidesDir != null
                            ? Backfill.folderSlides(slidesDir, after)
                            : Backfill.storedSlides(job.iceberg(), after);
            Backfill.Plan plan = Backfill.plan(job.iceberg(), modelId, candidates);
            err.printf(
                    "Backfill with model %s: %d slides, %d already done, %d to embed%n",
                    modelId, plan.candidates(), plan.alreadyDone(), plan.todo().size());
            err.flush();
            ProgressReporter progress =
                    new ProgressReporter(
                            err, ProgressReporter.auto(), "slides", plan.todo().size(), 5_000);
            Backfill.run(conf, job, plan, Duration.ofSeconds(1), progress::advanceTo);
            progress.finish("backfill");
            if (promote) {
                CurrentModel.promote(job.iceberg(), modelId);
            }
            StoredModels.Holdings held = StoredModels.of(job.iceberg(), job.milvus(), modelId);
            out.printf(
                    Locale.ROOT,
                    "model %s: %d slides with a result, %d errors, %d tile rows in Iceberg, %d"
                            + " vectors in Milvus%s%n",
                    held.modelId(),
                    held.slides(),
                    held.errors(),
                    held.tileRows(),
                    held.vectors(),
                    held.current() ? " (current)" : "");
            out.flush();
        } finally {
            if (checkpoints != null) {
                FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
            }
        }
        return 0;
    }

    private static Instant parseSince(String value) {
        try {
            return value.length() == 10
                    ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "--since "
                            + value
                            + ": give a date (2026-01-31) or an instant (2026-01-31T08:00:00Z)");
        }
    }
}
