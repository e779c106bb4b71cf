package io.slidestream.serve;

import io.slidestream.aggregate.AggregateConfig;
import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.slide.SlideReader;
import java.util.List;
import org.apache.flink.configuration.Configuration;

/**
 * The parts of the job's configuration the service reads: the model (and tissue classes), Milvus,
 * the Iceberg catalog, the allowed slide roots and how slides are read, and the service's own
 * {@code serve.*} keys ({@link ServeAccess}, {@link ServeLimits}). Kafka is not needed, so a
 * configuration without {@code kafka.bootstrap-servers} serves.
 */
public record ServeConfig(
        InferenceConfig inference,
        AggregateConfig aggregate,
        MilvusConfig milvus,
        IcebergConfig iceberg,
        List<String> allowedRoots,
        SlideReader slideReader,
        ServeAccess access,
        ServeLimits limits) {

    /** The job's parts of the configuration, with {@link ServeAccess#OPEN}. */
    public static ServeConfig of(SlideStreamConfig job) {
        return new ServeConfig(
                job.inference(),
                job.aggregate(),
                job.milvus(),
                job.iceberg(),
                job.allowedRoots(),
                job.slideReader(),
                ServeAccess.OPEN,
                ServeLimits.DEFAULTS);
    }

    public ServeConfig withAccess(ServeAccess other) {
        return new ServeConfig(
                inference, aggregate, milvus, iceberg, allowedRoots, slideReader, other, limits);
    }

    public static ServeConfig from(Configuration conf) {
        InferenceConfig inference = InferenceConfig.from(conf);
        if (inference.modelPath() == null
                || !java.nio.file.Files.isRegularFile(inference.modelPath())) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "inference.model-path = "
                            + inference.modelPath()
                            + " is not a file: serve embeds uploaded images with the job's model;"
                            + " give the same configuration as the job's");
        }
        return new ServeConfig(
                inference,
                AggregateConfig.from(conf),
                MilvusConfig.from(conf),
                IcebergConfig.from(conf),
                List.copyOf(conf.get(JobOptions.ALLOWED_ROOTS)),
                SlideReader.parse(conf.get(SlideReader.OPTION)),
                ServeAccess.from(conf),
                ServeLimits.from(conf));
    }
}
