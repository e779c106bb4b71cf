package io.slidestream.serve;

import io.slidestream.config.ServeOptions;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The service's own {@code serve.*} keys: where the audit lines go ({@code auditLog}, null for the
 * log), who may ask ({@code auth}, with the {@code authTokens} file for {@code token} and the
 * {@code oidc} provider for {@code oidc}), under which host names ({@code allowedHosts}, empty for
 * the bound address and the loopback names), and the keystore that makes it speak HTTPS ({@code
 * tls}, null for plain HTTP).
 */
public record ServeAccess(
        Path auditLog,
        ServeOptions.Auth auth,
        Path authTokens,
        Oidc oidc,
        List<String> allowedHosts,
        Tls tls) {

    /** No authentication (so loopback only), the audit lines to the log, the default hosts. */
    public static final ServeAccess OPEN =
            new ServeAccess(null, ServeOptions.Auth.NONE, null, null, List.of(), null);

    /**
     * The OpenID Connect provider of {@code serve.auth=oidc}: the issuer and audience a token must
     * name, where its keys are (null: from the issuer's discovery document) and the claim that
     * names the user.
     */
    public record Oidc(String issuer, String audience, String jwksUri, String userClaim) {}

    /** The keystore (PKCS12 or JKS) with the service's key and certificate, and its password. */
    public record Tls(Path keystore, String password) {
        @Override
        public String toString() {
            return "Tls[keystore=" + keystore + "]";
        }
    }

    public ServeAccess {
        allowedHosts = List.copyOf(allowedHosts);
    }

    static ServeAccess from(ReadableConfig conf) {
        ServeOptions.Auth auth = conf.get(ServeOptions.AUTH);
        return new ServeAccess(
                conf.getOptional(ServeOptions.AUDIT_LOG).map(Path::of).orElse(null),
                auth,
                conf.getOptional(ServeOptions.AUTH_TOKENS).map(Path::of).orElse(null),
                auth == ServeOptions.Auth.OIDC
                        ? new Oidc(
                                conf.get(ServeOptions.OIDC_ISSUER),
                                conf.get(ServeOptions.OIDC_AUDIENCE),
                                conf.get(ServeOptions.OIDC_JWKS_URI),
                                conf.get(ServeOptions.OIDC_USER_CLAIM))
                        : null,
                conf.get(ServeOptions.ALLOWED_HOSTS),
                conf.getOptional(ServeOptions.TLS_KEYSTORE)
                        .map(k -> new Tls(Path.of(k), conf.get(ServeOptions.TLS_KEYSTORE_PASSWORD)))
                        .orElse(null));
    }

    /** The same, appending the audit lines to {@code file}. */
    public ServeAccess withAuditLog(Path file) {
        return new ServeAccess(file, auth, authTokens, oidc, allowedHosts, tls);
    }
}
