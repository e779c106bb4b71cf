package io.slidestream.cli;

import io.slidestream.config.ConfigKeys;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code slidestream config}: every configuration key with its default and description. */
@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description = "List every configuration key (Markdown table) with default and description.")
final class ConfigCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(ConfigKeys.markdownTable());
        return 0;
    }
}
