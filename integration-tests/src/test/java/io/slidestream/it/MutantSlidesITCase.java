package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.testing.TestSlides;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slides from other hospitals, broken on purpose. Mutants of real slides (Aperio SVS, generic tiled
 * TIFF, Hamamatsu NDPI, CMU-1-Small-Region) - bytes flipped in the image directories and in the
 * tile data, huge counts and offsets written into directory entries, truncations - go through what
 * the job does with a slide ({@link MutantSlideProbe}: open, metadata, tissue, plan, read tiles) in
 * a child JVM, one after another, each with a deadline. Every mutant must end read or with a slide
 * error code: none may crash the JVM (native code), hang past the deadline, or throw an exception
 * that would fail the job over. Prints the outcomes per kind of damage; {@code -Dmutants.count=N}
 * (default {@value #DEFAULT_COUNT}) and {@code -Dmutants.seed=S}.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class MutantSlidesITCase {
    static final int DEFAULT_COUNT = 300;
    private static final long DEADLINE_SECONDS = 60;

    enum Damage {
        DIRECTORY_BYTES,
        TILE_BYTES,
        HUGE_VALUES,
        TRUNCATED
    }

    @TempDir Path dir;

    @Test
    void everyMutantEndsReadOrWithACodeNeverACrashOrAHang() throws Exception {
        int count = Integer.getInteger("mutants.count", DEFAULT_COUNT);
        Random random = new Random(Long.getLong("mutants.seed", 20261207L));
        List<Path> originals =
                List.of(
                        TestSlides.slideFixture("small.svs"),
                        TestSlides.slideFixture("boxes.tiff"),
                        TestSlides.slideFixture("hamamatsu-fluorescence.ndpi"),
                        TestSlides.cmu1SmallRegion());
        List<byte[]> bytes = new ArrayList<>();
        for (Path p : originals) {
            bytes.add(Files.readAllBytes(p));
        }
        List<Path> mutants = new ArrayList<>();
        List<Damage> damages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int which = i % originals.size();
            Damage damage = Damage.values()[(i / originals.size()) % Damage.values().length];
            String name = originals.get(which).getFileName().toString();
            Path mutant = dir.resolve(String.format(Locale.ROOT, "m%04d-%s-%s", i, damage, name));
            Files.write(mutant, mutate(bytes.get(which), damage, random));
            mutants.add(mutant);
            damages.add(damage);
        }

        Map<String, Map<String, Integer>> outcomes = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        Probe probe = null;
        long started = System.nanoTime();
        try {
            for (int i = 0; i < mutants.size(); i++) {
                if (probe == null) {
                    probe = new Probe();
                }
                String outcome = probe.run(mutants.get(i));
                if (outcome.startsWith("CRASH") || outcome.startsWith("HANG")) {
                    probe.kill();
                    probe = null;
                }
                String kind = outcome.split(" ")[0];
                outcomes.computeIfAbsent(damages.get(i).name(), k -> new TreeMap<>())
                        .merge(kind, 1, Integer::sum);
                if (kind.equals("CRASH") || kind.equals("HANG") || kind.equals("UNCAUGHT")) {
                    failures.add(mutants.get(i).getFileName() + ": " + outcome);
                }
            }
        } finally {
            if (probe != null) {
                probe.close();
            }
        }
        System.out.printf(
                Locale.ROOT,
                "MutantSlidesITCase: %d mutants of %d slides in %.1f s%n",
                mutants.size(),
                originals.size(),
                (System.nanoTime() - started) / 1e9);
        outcomes.forEach(
                (damage, byOutcome) -> System.out.println("  " + damage + " " + byOutcome));
        assertThat(failures).as("mutants that crashed, hung or escaped as an exception").isEmpty();
    }

    /** A copy of {@code original} with {@code damage} done to it. */
    static byte[] mutate(byte[] original, Damage damage, Random random) {
        byte[] b = original.clone();
        List<int[]> tables = directoryTables(b);
        switch (damage) {
            case DIRECTORY_BYTES -> {
                for (int n = 1 + random.nextInt(8); n > 0; n--) {
                    int[] t = tables.get(random.nextInt(tables.size()));
                    b[t[0] + random.nextInt(t[1])] = (byte) random.nextInt(256);
                }
            }
            case TILE_BYTES -> {
                for (int n = 1 + random.nextInt(64); n > 0; n--) {
                    b[b.length / 8 + random.nextInt(b.length - b.length / 8)] =
                            (byte) random.nextInt(256);
                }
            }
            case HUGE_VALUES -> {
                int[] t = tables.get(random.nextInt(tables.size()));
                int entries = Math.max(1, (t[1] - 2) / 12);
                int entry = t[0] + 2 + 12 * random.nextInt(entries);
                int[] huge = {-1, Integer.MAX_VALUE, 0x7FFFFFF0, b.length, b.length + 1, 1 << 30};
                // the count (bytes 4-7) or the value/offset (bytes 8-11) of the entry
                int at = entry + (random.nextBoolean() ? 4 : 8);
                if (at + 4 <= b.length) {
                    ByteBuffer.wrap(b)
                            .order(order(b))
                            .putInt(at, huge[random.nextInt(huge.length)]);
                }
            }
            case TRUNCATED -> {
                return java.util.Arrays.copyOf(b, 8 + random.nextInt(b.length - 8));
            }
        }
        return b;
    }

    private static ByteOrder order(byte[] b) {
        return b[0] == 'M' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    /** {offset, length} of each classic TIFF directory's table (count and entries). */
    private static List<int[]> directoryTables(byte[] b) {
        List<int[]> tables = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.wrap(b).order(order(b));
        long ifd = buf.getInt(4) & 0xFFFFFFFFL;
        for (int n = 0; n < 64 && ifd > 0 && ifd + 2 < b.length; n++) {
            int entries = buf.getShort((int) ifd) & 0xFFFF;
            int length = 2 + 12 * entries;
            if (ifd + length + 4 > b.length) {
                break;
            }
            tables.add(new int[] {(int) ifd, length});
            ifd = buf.getInt((int) ifd + length) & 0xFFFFFFFFL;
        }
        if (tables.isEmpty()) {
            tables.add(new int[] {0, Math.min(64, b.length)});
        }
        return tables;
    }

    /** The probe JVM, fed one slide at a time. */
    private final class Probe implements AutoCloseable {
        private final Process process;
        private final PrintWriter in;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Probe() throws IOException {
            process =
                    new ProcessBuilder(ChildJvm.command(List.of("-Xmx1g"), MutantSlideProbe.class))
                            .redirectError(dir.resolve("probe-stderr.log").toFile())
                            .start();
            in =
                    new PrintWriter(
                            new OutputStreamWriter(
                                    process.getOutputStream(), StandardCharsets.UTF_8),
                            true);
            Thread reader =
                    new Thread(
                            () -> {
                                try (BufferedReader r =
                                        new BufferedReader(
                                                new InputStreamReader(
                                                        process.getInputStream(),
                                                        StandardCharsets.UTF_8))) {
                                    String line;
                                    while ((line = r.readLine()) != null) {
                                        if (line.startsWith("END ")) {
                                            lines.add(line);
                                        }
                                    }
                                } catch (IOException e) {
                                    // the process died: noticed by run()
                                }
                                lines.add("EOF");
                            },
                            "probe-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** The outcome of one slide: the probe's, or CRASH (exit status) or HANG. */
        String run(Path slide) throws Exception {
            in.println(slide.toAbsolutePath());
            String line = lines.poll(DEADLINE_SECONDS, TimeUnit.SECONDS);
            if (line == null) {
                return "HANG after " + DEADLINE_SECONDS + " s";
            }
            if (line.equals("EOF")) {
                process.waitFor(10, TimeUnit.SECONDS);
                return "CRASH exit " + (process.isAlive() ? "?" : process.exitValue());
            }
            return line.substring(line.indexOf(' ', 4) + 1);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            in.close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
