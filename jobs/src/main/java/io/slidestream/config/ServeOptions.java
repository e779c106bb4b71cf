package io.slidestream.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

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
        TOKEN
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
                                    + " of serve.auth-tokens.");

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

    private ServeOptions() {}
}
