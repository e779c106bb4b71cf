package io.slidestream.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that runs a test class's {@code main} in a JVM of its own. */
final class ChildJvm {
    private ChildJvm() {}

    /** This JVM's {@code java} and class path, then {@code jvmOptions}, then {@code main}. */
    static List<String> command(List<String> jvmOptions, Class<?> main) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        return command;
    }
}
