package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.local.ProcessPriority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ProcessPriority} (what {@code backfill --nice} does) in a child JVM, not the test's own:
 * every thread that existed, and threads started afterwards, run at the new nice value.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ProcessPriorityITCase {

    /** The child: lowers itself to nice 7, starts a thread, prints every thread's nice value. */
    public static void main(String[] args) throws Exception {
        ProcessPriority.lower(Integer.parseInt(args[0]));
        Thread later = new Thread(() -> {}, "started-after");
        later.start();
        later.join();
        Thread waiting =
                new Thread(
                        () -> {
                            try {
                                Thread.sleep(60_000);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "started-after-2");
        waiting.setDaemon(true);
        waiting.start();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    System.out.println(nice(Files.readString(task.resolve("stat"))));
                } catch (java.io.IOException ended) {
                    // the thread ended meanwhile
                }
            }
        }
    }

    /** Field 19 of a {@code stat} line (after the parenthesised name). */
    static int nice(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[16]);
    }

    @Test
    void everyThreadOfTheProcessRunsAtTheNewNiceValue() throws Exception {
        Process child =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                ProcessPriorityITCase.class.getName(),
                                "7")
                        .redirectErrorStream(true)
                        .start();
        String output = new String(child.getInputStream().readAllBytes());
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        List<Integer> nices = new ArrayList<>();
        output.lines()
                .filter(l -> l.matches("-?\\d+"))
                .forEach(l -> nices.add(Integer.parseInt(l)));
        assertThat(nices).as(output).hasSizeGreaterThan(5).containsOnly(7);
    }

    @Test
    void refusesWhatIsNotANiceValue() {
        assertThatThrownBy(() -> ProcessPriority.lower(20))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcessPriority.lower(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
