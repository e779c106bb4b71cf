package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPFM export tool's own tests ({@code tools/test_export_onnx.py}) with the system Python and
 * Debian's python3-torch and python3-onnx, as {@code tools/setup.sh} installs them: both checkpoint
 * layouts load strictly into the plain-torch GPFM definition, and a random-weight export (depth 2,
 * GPFM's parameter names) is checked against PyTorch through ONNX Runtime Java.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ExportToolITCase {

    @TempDir Path dir;

    @Test
    void theExportToolsTestsPass() throws Exception {
        Path home = Path.of(System.getProperty("slidestream.home", ".")).toAbsolutePath();
        String cli =
                "java -cp "
                        + home.resolve("cli/target/slidestream-cli.jar")
                        + File.pathSeparator
                        + home.resolve("cli/target/lib")
                        + "/* io.slidestream.cli.SlideStreamCli";
        Path log = dir.resolve("python.log");
        ProcessBuilder python =
                new ProcessBuilder(
                                "/usr/bin/python3",
                                "-m",
                                "unittest",
                                "discover",
                                "-v",
                                "-s",
                                "tools",
                                "-p",
                                "test_*.py")
                        .directory(home.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
        python.environment().put("SLIDESTREAM_CLI", cli);
        Process run = python.start();
        boolean done = run.waitFor(10, TimeUnit.MINUTES);
        String output = Files.readString(log);
        System.out.println("ExportToolITCase:\n" + output);
        assertThat(done).as("the tool's tests finished within 10 minutes").isTrue();
        assertThat(run.exitValue()).as(output).isZero();
        assertThat(output).contains("Ran 5 tests").contains("OK");
    }
}
