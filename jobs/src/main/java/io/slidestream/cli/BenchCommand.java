package io.slidestream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code slidestream bench ...}: the benchmarks; each subcommand measures one stage. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure the throughput of one stage.",
        subcommands = {BenchEmbedCommand.class})
final class BenchCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
