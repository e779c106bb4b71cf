package io.slidestream.serve;

import io.slidestream.aggregate.AggregateConfig;
import io.slidestream.config.JobOptions;
import io.slidestream.config.ServeOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.slide.SlideReader;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;

/**
 * The parts of the job's configuration the service reads: the model (and tissue classes), Milvus,
 * the Iceberg catalog, the allowed slide roots and how slides are read, and the service's own
 * {@code serve.*} keys (the audit file, null for the log; authentication and allowed hosts). Kafka
 * is not needed, so a configuration without {@code kafka.bootstrap-servers} serves.
 */
public record ServeConfig(
        InferenceConfig inference,
        AggregateConfig aggregate,
        MilvusConfig milvus,
        IcebergConfig iceberg,
        List<String> allowedRoots,
        SlideReader slideReader,
        Path auditLog,
        ServeOptions.Auth auth,
        Path authTokens,
        List<String> allowedHosts) {

    public ServeConfig {
        allowedHosts = List.copyOf(allowedHosts);
    }

    /** The job's parts of the configuration; no audit file (the lines go to the log). */
    public static ServeConfig of(SlideStreamConfig job) {
        return new ServeConfig(
                job.inference(),
                job.aggregate(),
                job.milvus(),
                job.iceberg(),
                job.allowedRoots(),
                job.slideReader(),
                null,
                ServeOptions.Auth.NONE,
                null,
                List.of());
    }

    /** The same, appending the audit lines to {@code file}. */
    public ServeConfig withAuditLog(Path file) {
        return new ServeConfig(
                inference,
                aggregate,
                milvus,
                iceberg,
                allowedRoots,
                slideReader,
                file,
                auth,
                authTokens,
                allowedHosts);
    }

    /** The same with another authentication and allowed hosts. */
    public ServeConfig withAccess(ServeOptions.Auth auth, Path tokens, List<String> hosts) {
        return new ServeConfig(
                inference,
                aggregate,
                milvus,
                iceberg,
                allowedRoots,
                slideReader,
                auditLog,
                auth,
                tokens,
                hosts);
    }

    public static ServeConfig from(Configuration conf) {
        InferenceConfig inference;
        try {
            inference = InferenceConfig.from(conf);
        } catch (IllegalArgumentException e) {
            throw new SlideStreamException(ErrorCode.INVALID_CONFIG, e.getMessage());
        }
        if (inference.modelPath() == null
                || !java.nio.file.Files.isRegularFile(inference.modelPath())) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "inference.model-path = "
                            + inference.modelPath()
                            + " is not a file: serve embeds uploaded images with the job's model;"
                            + " give the same configuration as the job's");
        }
        try {
            return new ServeConfig(
                    inference,
                    AggregateConfig.from(conf),
                    MilvusConfig.from(conf),
                    IcebergConfig.from(conf),
                    List.copyOf(conf.get(JobOptions.ALLOWED_ROOTS)),
                    SlideReader.parse(conf.get(SlideReader.OPTION)),
                    conf.getOptional(ServeOptions.AUDIT_LOG).map(Path::of).orElse(null),
                    conf.get(ServeOptions.AUTH),
                    conf.getOptional(ServeOptions.AUTH_TOKENS).map(Path::of).orElse(null),
                    conf.get(ServeOptions.ALLOWED_HOSTS));
        } catch (IllegalArgumentException e) {
            throw new SlideStreamException(ErrorCode.INVALID_CONFIG, e.getMessage());
        }
    }
}
