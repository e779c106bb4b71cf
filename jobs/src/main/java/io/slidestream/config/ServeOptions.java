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

    private ServeOptions() {}
}
