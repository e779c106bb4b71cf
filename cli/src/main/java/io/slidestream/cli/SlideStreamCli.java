package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code slidestream} command line. Every subcommand turns a {@link SlideStreamException} into
 * {@code CODE: message} on standard error and a non-zero exit, never a stack trace.
 */
@Command(
        name = "slidestream",
        mixinStandardHelpOptions = true,
        version = "slidestream 0.1.0",
        description = "Streaming computational pathology: slides in, GPFM embeddings out.",
        subcommands = {
            TilesCommand.class,
            EmbedCommand.class,
            BenchCommand.class,
            EvalCommand.class,
            DemoCommand.class,
            PublishCommand.class,
            WatchCommand.class,
            RunCommand.class,
            StopCommand.class,
            ServeCommand.class,
            SearchCommand.class,
            BagsCommand.class,
            HeadsCommand.class,
            BackfillCommand.class,
            ModelsCommand.class,
            ForgetCommand.class,
            MaintainCommand.class,
            ConfigCommand.class,
            ModelRunCommand.class
        })
public final class SlideStreamCli implements Runnable {

    @Spec CommandSpec spec;

    /** Exit code for a typed failure (bad slide, bad model, bad configuration). */
    public static final int EXIT_FAILURE = 2;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line on standard out and err and returns the exit code. */
    public static int execute(String... args) {
        return execute(null, null, args);
    }

    /**
     * Runs the command line with its standard output and error going to {@code out} and {@code err}
     * (null: the process's own), and returns the exit code. Tests capture output this way.
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new SlideStreamCli());
        if (out != null) {
            cli.setOut(out);
        }
        if (err != null) {
            cli.setErr(err);
        }
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
        try {
            return cli.execute(args);
        } finally {
            cli.getOut().flush();
            cli.getErr().flush();
        }
    }
}
