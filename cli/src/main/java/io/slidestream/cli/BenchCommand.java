package io.slidestream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream bench}: the parent of the benchmark commands. It does nothing itself but print
 * its usage; each benchmark is a subcommand ({@code bench read}, and further ones added to {@code
 * subcommands}).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure throughput of one stage of the pipeline.",
        subcommands = {
            BenchReadCommand.class,
            BenchEmbedCommand.class,
            BenchPipelineCommand.class,
            BenchChaosCommand.class,
            BenchSearchCommand.class,
            BenchBackfillCommand.class,
            BenchSoakCommand.class
        })
final class BenchCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
