package io.slidestream.local.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the jars of the local cluster's processes are: {@code testbed/<process>/target/lib} under
 * the project root ({@code slidestream.home}), as the {@code testbed} modules resolve them from
 * Maven Central. Also the job jar and the cluster's extra libraries that {@code jobs} builds.
 */
public final class Testbed {
    private final Path home;

    private Testbed(Path home) {
        this.home = home;
    }

    /** The project root from {@code slidestream.home}, else the working directory. */
    public static Testbed locate() {
        return new Testbed(
                Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath().normalize());
    }

    public Path home() {
        return home;
    }

    /** The jars of testbed module {@code process} ({@code flink}, {@code kafka}, ...). */
    public List<String> classpath(String process) {
        return jars(home.resolve("testbed").resolve(process).resolve("target").resolve("lib"));
    }

    /** Flink's S3 file system plugin folder, to be linked under the cluster's plugins/. */
    public Path flinkS3Plugin() {
        return requireDir(
                home.resolve("testbed/flink/target/plugins/s3-fs-hadoop"), "Flink's S3 plugin");
    }

    /** The deployable job jar ({@code jobs/target/slidestream-job.jar}). */
    public Path jobJar() {
        Path jar = home.resolve("jobs/target/slidestream-job.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    "no job jar at "
                            + jar
                            + ": build it with `mvn -DskipTests package -pl jobs -am`");
        }
        return jar;
    }

    private static List<String> jars(Path dir) {
        requireDir(dir, "the testbed's jars");
        try (Stream<Path> files = Files.list(dir)) {
            List<String> jars =
                    files.filter(f -> f.toString().endsWith(".jar"))
                            .map(Path::toString)
                            .sorted()
                            .toList();
            if (jars.isEmpty()) {
                throw new IllegalStateException("no jars in " + dir);
            }
            return jars;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path requireDir(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(
                    "no "
                            + what
                            + " at "
                            + dir
                            + ": build the testbed with `mvn -DskipTests package -pl testbed -am`");
        }
        return dir;
    }
}
