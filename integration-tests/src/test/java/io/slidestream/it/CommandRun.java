package io.slidestream.it;

import io.slidestream.cli.SlideStreamCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** One run of the command line in this JVM: its exit code and what it printed. */
record CommandRun(int code, String out, String err) {

    /** Runs {@code args}, then {@code keys} (the {@code -D key=value} arguments of a stack). */
    static CommandRun of(List<String> keys, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(keys);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code =
                SlideStreamCli.execute(
                        new PrintWriter(out, true),
                        new PrintWriter(err, true),
                        all.toArray(String[]::new));
        return new CommandRun(code, out.toString(), err.toString());
    }

    /** Both outputs, for an assertion's message. */
    String output() {
        return "stdout:\n" + out + "\nstderr:\n" + err;
    }
}
