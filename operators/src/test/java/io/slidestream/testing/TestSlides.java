package io.slidestream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Locates the shared test fixtures for every module's tests: {@code ../shared/fixtures} through the
 * {@code slidestream.shared} system property and the real slide CMU-1-Small-Region through {@code
 * slidestream.cache} (both set by surefire/failsafe in the root pom). CMU-1-Small-Region is fetched
 * once with {@code fixtures/slides/fetch-cmu1.sh} when the cache lacks it.
 */
public final class TestSlides {

    /** Level-0 size of CMU-1-Small-Region. */
    public static final long CMU1_WIDTH = 2220;

    public static final long CMU1_HEIGHT = 2967;
    public static final double CMU1_MPP = 0.499;

    private static final Object FETCH_LOCK = new Object();

    private TestSlides() {}

    /** The shared folder ({@code ../shared}). */
    public static Path shared() {
        return existing(property("slidestream.shared", "../shared"), "slidestream.shared");
    }

    /** {@code ../shared/fixtures/slides}. */
    public static Path slideFixtures() {
        return shared().resolve("fixtures/slides");
    }

    /** One file of {@code ../shared/fixtures/slides}, e.g. {@code small.svs}. */
    public static Path slideFixture(String name) {
        return existing(slideFixtures().resolve(name), "fixture " + name);
    }

    /** {@code ../shared/fixtures/gpfm-tiny}. */
    public static Path gpfmTiny() {
        return existing(shared().resolve("fixtures/gpfm-tiny"), "gpfm-tiny fixtures");
    }

    /** CMU-1-Small-Region.tiff, fetched into the cache on first use. */
    public static Path cmu1SmallRegion() {
        Path dir = property("slidestream.cache", ".cache").resolve("slides");
        Path slide = dir.resolve("CMU-1-Small-Region.tiff");
        synchronized (FETCH_LOCK) {
            if (!isNonEmpty(slide)) {
                fetch(dir);
            }
        }
        return existing(slide, "CMU-1-Small-Region");
    }

    private static void fetch(Path dir) {
        Path script = slideFixture("fetch-cmu1.sh");
        try {
            Files.createDirectories(dir);
            Process p =
                    new ProcessBuilder("bash", script.toString(), dir.toString())
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                            .start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "fetching CMU-1-Small-Region with " + script + " into " + dir + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching CMU-1-Small-Region", e);
        }
    }

    private static boolean isNonEmpty(Path file) {
        try {
            return Files.isRegularFile(file) && Files.size(file) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path property(String name, String fallback) {
        return Path.of(System.getProperty(name, fallback)).toAbsolutePath().normalize();
    }

    private static Path existing(Path path, String what) {
        if (!Files.exists(path)) {
            throw new IllegalStateException(
                    what
                            + " not found at "
                            + path
                            + "; run the tests through Maven (which sets"
                            + " slidestream.shared and slidestream.cache) from the repository");
        }
        return path;
    }
}
