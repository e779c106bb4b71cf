package io.slidestream.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/**
 * Options of the retrieval service and dashboard ({@code slidestream serve}), which reads the job's
 * configuration file: kept with the job's keys so that one file configures both and every key is
 * documented and checked in one place.
 */
public final class ServeOptions {

    public static final ConfigOption<String> AUDIT_LOG =
            ConfigOptions.key("serve.audit-log")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "File the service appends one JSON line to for every API request"
                                    + " (time, user, client address, method, route, slide id,"
                                    + " status; never a credential). Unset: the lines go to the"
                                    + " service's log, logger io.slidestream.serve.audit.");

    /** Who may use the service. */
    public enum Auth {
        /** Anyone who reaches the port: refused on a non-loopback address without --insecure. */
        NONE,
        /** A bearer token (or the dashboard's cookie holding one) from serve.auth-tokens. */
        TOKEN,
        /** A bearer JWT signed by the serve.oidc.issuer's keys, for serve.oidc.audience. */
        OIDC
    }

    public static final ConfigOption<Auth> AUTH =
            ConfigOptions.key("serve.auth")
                    .enumType(Auth.class)
                    .defaultValue(Auth.NONE)
                    .withDescription(
                            "none: no authentication, and the service refuses to listen on a"
                                    + " non-loopback address unless started with --insecure;"
                                    + " token: every API request carries 'Authorization: Bearer"
                                    + " TOKEN' (or the dashboard's session cookie) with a token"
                                    + " of serve.auth-tokens; oidc: the bearer is a JWT of an"
                                    + " OpenID Connect provider (signature checked against"
                                    + " its published keys, issuer, audience, expiry), as"
                                    + " an authenticating proxy adds it.");

    public static final ConfigOption<String> AUTH_TOKENS =
            ConfigOptions.key("serve.auth-tokens")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For serve.auth=token: a file of 'user:token' lines (# starts a"
                                    + " comment), read again whenever it changes; the user names"
                                    + " the requests in the audit log.");

    public static final ConfigOption<java.util.List<String>> ALLOWED_HOSTS =
            ConfigOptions.key("serve.allowed-hosts")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "Host names the service answers to (the Host header; the Origin of a"
                                    + " cross-site request): others get 421 or 403, which stops"
                                    + " DNS rebinding. Empty: the bound address, localhost,"
                                    + " 127.0.0.1 and ::1.");

    public static final ConfigOption<String> OIDC_ISSUER =
            ConfigOptions.key("serve.oidc.issuer")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For serve.auth=oidc: the issuer ('iss') every token must name, e.g."
                                    + " https://login.hospital.example/realms/pathology; its"
                                    + " /.well-known/openid-configuration names the keys unless"
                                    + " serve.oidc.jwks-uri does.");

    public static final ConfigOption<String> OIDC_AUDIENCE =
            ConfigOptions.key("serve.oidc.audience")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For serve.auth=oidc: the audience ('aud') every token must include:"
                                    + " the client id the provider issues tokens for this"
                                    + " service under.");

    public static final ConfigOption<String> OIDC_JWKS_URI =
            ConfigOptions.key("serve.oidc.jwks-uri")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For serve.auth=oidc: where the issuer publishes its signing keys (a"
                                    + " JWK set). Unset: read from the issuer's discovery"
                                    + " document at start. Keys are cached and fetched again"
                                    + " when a token names an unknown key (rotation).");

    public static final ConfigOption<String> OIDC_USER_CLAIM =
            ConfigOptions.key("serve.oidc.user-claim")
                    .stringType()
                    .defaultValue("sub")
                    .withDescription(
                            "For serve.auth=oidc: the claim that names the user in the audit"
                                    + " log (e.g. preferred_username); 'sub' when a token lacks"
                                    + " it.");

    public static final ConfigOption<String> TLS_KEYSTORE =
            ConfigOptions.key("serve.tls.keystore")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A PKCS12 (or JKS) keystore with the service's private key and"
                                    + " certificate chain: the service then speaks HTTPS only"
                                    + " (TLS 1.2 and 1.3) and its session cookie is Secure."
                                    + " Unset: plain HTTP, for loopback or behind a TLS proxy.");

    public static final ConfigOption<String> TLS_KEYSTORE_PASSWORD =
            ConfigOptions.key("serve.tls.keystore-password")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The password of serve.tls.keystore and of its key; never logged.");

    public static final ConfigOption<Integer> MAX_EXPENSIVE_REQUESTS =
            ConfigOptions.key("serve.max-expensive-requests")
                    .intType()
                    .defaultValue(4)
                    .withDescription(
                            "Searches, embedded uploads, regions and thumbnails answered at once;"
                                    + " one more gets 429 with Retry-After at once instead of"
                                    + " queueing, so a burst cannot take the memory or threads.");

    public static final ConfigOption<MemorySize> MAX_UPLOAD_SIZE =
            ConfigOptions.key("serve.max-upload-size")
                    .memoryType()
                    .defaultValue(MemorySize.parse("20mb"))
                    .withDescription(
                            "Largest image accepted by POST /api/search/image (413 beyond).");

    public static final ConfigOption<Long> MAX_UPLOAD_PIXELS =
            ConfigOptions.key("serve.max-upload-pixels")
                    .longType()
                    .defaultValue(4096L * 4096L)
                    .withDescription(
                            "Largest uploaded image in pixels, as its header declares them:"
                                    + " refused (413) before anything is decoded.");

    public static final ConfigOption<Long> MAX_READ_PIXELS =
            ConfigOptions.key("serve.max-read-pixels")
                    .longType()
                    .defaultValue(4096L * 4096L)
                    .withDescription(
                            "Most pixels one region or thumbnail may read from a slide's closest"
                                    + " pyramid level (4 bytes each decoded): a picture of a slide"
                                    + " without a coarse enough level is refused (400"
                                    + " REGION_TOO_LARGE) instead of read.");

    private ServeOptions() {}
}
