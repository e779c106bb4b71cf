package io.slidestream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code slidestream eval}: the parent of the evaluation commands ({@code eval retrieval}). */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate a model on a lab's own labelled data.",
        subcommands = {EvalRetrievalCommand.class})
final class EvalCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
