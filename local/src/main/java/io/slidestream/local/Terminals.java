package io.slidestream.local;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Whether a standard stream is a terminal. Java only says whether stdin and stdout together are one
 * ({@code System.console()}); a progress bar needs to know about standard error alone, so this asks
 * the C library's {@code isatty} through JNA (already on the classpath for OpenSlide).
 */
public final class Terminals {
    private static final int STDERR = 2;

    private interface CLibrary extends Library {
        int isatty(int fd);
    }

    private Terminals() {}

    /** True when file descriptor 2 is a terminal; false when that cannot be told. */
    public static boolean stderrIsTerminal() {
        try {
            return Native.load("c", CLibrary.class).isatty(STDERR) == 1;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }
}
