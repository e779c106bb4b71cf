package io.slidestream.serve;

import io.slidestream.config.ServeOptions;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The service's own {@code serve.*} keys: where the audit lines go ({@code auditLog}, null for the
 * log), who may ask ({@code auth}, with the {@code authTokens} file for {@code token}) and under
 * which host names ({@code allowedHosts}, empty for the bound address and the loopback names).
 */
public record ServeAccess(
        Path auditLog, ServeOptions.Auth auth, Path authTokens, List<String> allowedHosts) {

    /** No authentication (so loopback only), the audit lines to the log, the default hosts. */
    public static final ServeAccess OPEN =
            new ServeAccess(null, ServeOptions.Auth.NONE, null, List.of());

    public ServeAccess {
        allowedHosts = List.copyOf(allowedHosts);
    }

    static ServeAccess from(ReadableConfig conf) {
        return new ServeAccess(
                conf.getOptional(ServeOptions.AUDIT_LOG).map(Path::of).orElse(null),
                conf.get(ServeOptions.AUTH),
                conf.getOptional(ServeOptions.AUTH_TOKENS).map(Path::of).orElse(null),
                conf.get(ServeOptions.ALLOWED_HOSTS));
    }

    /** The same, appending the audit lines to {@code file}. */
    public ServeAccess withAuditLog(Path file) {
        return new ServeAccess(file, auth, authTokens, allowedHosts);
    }
}
