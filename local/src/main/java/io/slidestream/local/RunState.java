package io.slidestream.local;

import io.slidestream.config.JobOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;

/**
 * The state {@code run} keeps across runs in one folder: {@code checkpoints/} (the job's
 * checkpoints, unless {@code job.checkpoint-dir} names another file system folder, kept when the
 * job ends) and {@code savepoints/} (the savepoint a stop takes). A run resumes from the newest
 * complete one of either - a stop's savepoint, or the last checkpoint of a run that crashed - and
 * removes the older ones.
 */
public final class RunState {
    private static final String METADATA = "_metadata";

    private final Path dir;

    private RunState(Path dir) {
        this.dir = dir;
    }

    public static RunState in(Path dir) {
        return new RunState(dir.toAbsolutePath().normalize());
    }

    public Path savepoints() {
        return dir.resolve("savepoints");
    }

    public Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    /**
     * Points the job's checkpoints and savepoints here (the checkpoints only if {@code
     * job.checkpoint-dir} is unset), keeps checkpoints when the job ends, and - unless {@code
     * fresh} - sets the newest state to resume from, saying which on {@code err}.
     */
    public void configure(Configuration conf, boolean fresh, PrintWriter err) {
        if (!conf.contains(JobOptions.CHECKPOINT_DIR)) {
            conf.set(JobOptions.CHECKPOINT_DIR, checkpoints().toUri().toString());
        }
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints().toUri().toString());
        if (fresh) {
            err.println("Starting afresh (--fresh): the state in " + dir + " is not used");
            return;
        }
        Optional<Path> checkpointFolder = checkpointFolder(conf);
        Optional<Path> latest = latest(checkpointFolder);
        latest.ifPresent(
                state -> {
                    conf.set(StateRecoveryOptions.SAVEPOINT_PATH, state.toUri().toString());
                    err.println("Resuming from " + state);
                    int pruned = pruneOlderThan(state, checkpointFolder);
                    if (pruned > 0) {
                        err.println("Removed " + pruned + " older savepoints and checkpoints");
                    }
                });
    }

    /**
     * Deletes the savepoints and the checkpoint folders of earlier runs that are older than {@code
     * kept}, the state this run resumes from (which stays: the job restores without claiming it).
     * Without this every run would leave its last checkpoint behind for good.
     */
    public int pruneOlderThan(Path kept, Optional<Path> checkpointFolder) {
        long keptAt = modified(kept.resolve(METADATA));
        List<Path> older = new ArrayList<>();
        for (Path savepoint : children(savepoints())) {
            if (!kept.startsWith(savepoint) && newestMetadata(savepoint) < keptAt) {
                older.add(savepoint);
            }
        }
        checkpointFolder.ifPresent(
                folder -> {
                    for (Path job : children(folder)) {
                        if (!kept.startsWith(job) && newestMetadata(job) < keptAt) {
                            older.add(job);
                        }
                    }
                });
        older.forEach(RunState::deleteRecursively);
        return older.size();
    }

    /** The newest {@code _metadata} in {@code folder} or one level below; 0 when none. */
    private static long newestMetadata(Path folder) {
        long newest = 0;
        if (Files.isRegularFile(folder.resolve(METADATA))) {
            newest = modified(folder.resolve(METADATA));
        }
        for (Path child : children(folder)) {
            if (Files.isRegularFile(child.resolve(METADATA))) {
                newest = Math.max(newest, modified(child.resolve(METADATA)));
            }
        }
        return newest;
    }

    private static void deleteRecursively(Path folder) {
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove old state " + folder, e);
        }
    }

    /** The checkpoint folder the job will use, when it is on the local file system. */
    private static Optional<Path> checkpointFolder(Configuration conf) {
        String dir = conf.get(JobOptions.CHECKPOINT_DIR);
        URI uri = URI.create(dir);
        if (uri.getScheme() == null) {
            return Optional.of(Path.of(dir));
        }
        return uri.getScheme().equals("file") ? Optional.of(Path.of(uri)) : Optional.empty();
    }

    /**
     * The newest complete savepoint or checkpoint: a folder with a {@code _metadata} file, directly
     * under {@code savepoints/} or as {@code <job>/chk-N} under the checkpoint folder.
     */
    public Optional<Path> latest(Optional<Path> checkpointFolder) {
        List<Path> candidates = new ArrayList<>(children(savepoints()));
        checkpointFolder.ifPresent(
                folder -> children(folder).forEach(job -> candidates.addAll(children(job))));
        return candidates.stream()
                .filter(p -> Files.isRegularFile(p.resolve(METADATA)))
                .max(Comparator.comparingLong(p -> modified(p.resolve(METADATA))));
    }

    private static List<Path> children(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
