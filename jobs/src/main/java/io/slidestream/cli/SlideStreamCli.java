package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code slidestream} command line. Every subcommand turns a {@link SlideStreamException} into
 * {@code CODE: message} on standard error and a non-zero exit, never a stack trace.
 */
@Command(
        name = "slidestream",
        mixinStandardHelpOptions = true,
        version = "slidestream 0.1.0",
        description = "Streaming computational pathology: slides in, GPFM embeddings out.",
        subcommands = {TilesCommand.class, DemoCommand.class})
public final class SlideStreamCli implements Runnable {

    /** Exit code for a typed failure (bad slide, bad model, bad configuration). */
    public static final int EXIT_FAILURE = 2;

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new SlideStreamCli());
        cli.setExecutionExceptionHandler(
                (ex, cmd, parsed) -> {
                    if (ex instanceof SlideStreamException) {
                        cmd.getErr().println(((SlideStreamException) ex).describe());
                        return EXIT_FAILURE;
                    }
                    cmd.getErr().println("INTERNAL: " + ex);
                    ex.printStackTrace(cmd.getErr());
                    return 1;
                });
        return cli.execute(args);
    }
}
