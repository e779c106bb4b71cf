package io.slidestream.local;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Lowers the CPU priority of this whole JVM, as {@code nice} would have at its start: Linux keeps a
 * nice value per thread and a new thread takes its creator's, so setting it on every thread listed
 * in {@code /proc/self/task} covers every thread the process starts afterwards too (ONNX Runtime's
 * pool, Flink's tasks). Used by the backfill, so that it takes the CPU the live job leaves and not
 * more. Raising one's own nice value needs no privilege.
 */
public final class ProcessPriority {

    /**
     * libc's {@code setpriority}; {@code which} 0 is PRIO_PROCESS, which on Linux is one thread.
     */
    private interface LibC extends Library {
        int setpriority(int which, int who, int prio);
    }

    private ProcessPriority() {}

    /**
     * Sets nice value {@code nice} (0-19) on every thread of this process; the number of threads
     * set.
     *
     * @throws IllegalStateException where there is no {@code /proc/self/task} (not Linux)
     */
    public static int lower(int nice) {
        if (nice < 0 || nice > 19) {
            throw new IllegalArgumentException("a nice value is 0 to 19, not " + nice);
        }
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            throw new IllegalStateException("no " + tasks + ": thread priorities are Linux only");
        }
        LibC libc = Native.load("c", LibC.class);
        int set = 0;
        try (Stream<Path> threads = Files.list(tasks)) {
            for (Path thread : (Iterable<Path>) threads::iterator) {
                // A thread may end between the listing and the call: then nothing is set.
                if (libc.setpriority(0, Integer.parseInt(thread.getFileName().toString()), nice)
                        == 0) {
                    set++;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + tasks + ": " + e.getMessage(), e);
        }
        return set;
    }
}
