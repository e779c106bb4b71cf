package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStateTest {

    @TempDir Path dir;

    @Test
    void resumesFromTheNewestCompleteStateAndRemovesTheOlderOnes() throws Exception {
        RunState state = RunState.in(dir);
        Path oldSavepoint = metadata(state.savepoints().resolve("savepoint-a"), 1_000);
        Path oldRun = metadata(state.checkpoints().resolve("job-1").resolve("chk-7"), 2_000);
        Path crashed = metadata(state.checkpoints().resolve("job-2").resolve("chk-3"), 3_000);
        // A checkpoint being written when the process died: no _metadata, never chosen.
        Files.createDirectories(state.checkpoints().resolve("job-2").resolve("chk-4"));

        Configuration conf = new Configuration();
        StringWriter err = new StringWriter();
        state.configure(conf, false, new PrintWriter(err, true));

        assertThat(conf.get(StateRecoveryOptions.SAVEPOINT_PATH))
                .isEqualTo(crashed.toUri().toString());
        assertThat(err.toString()).contains("Resuming from " + crashed);
        assertThat(crashed).exists();
        assertThat(oldSavepoint).doesNotExist();
        assertThat(oldRun.getParent()).doesNotExist();
    }

    @Test
    void freshIgnoresTheState() throws Exception {
        RunState state = RunState.in(dir);
        metadata(state.savepoints().resolve("savepoint-a"), 1_000);
        Configuration conf = new Configuration();
        state.configure(conf, true, new PrintWriter(new StringWriter(), true));
        assertThat(conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH)).isEmpty();
    }

    private static Path metadata(Path folder, long modifiedMillis) throws Exception {
        Files.createDirectories(folder);
        Path file = Files.writeString(folder.resolve("_metadata"), "state");
        Files.setLastModifiedTime(file, FileTime.fromMillis(modifiedMillis));
        return folder;
    }
}
