package io.slidestream.local;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long command on standard error (standard output stays clean for data): on a
 * terminal a bar redrawn in place ({@code [#####.....] 120/400 tiles 35.2 tiles/s}), otherwise one
 * plain line every {@code lineInterval}, so logs and CI output stay readable. {@link #finish}
 * always prints the summary line. Not thread-safe: the one thread that writes results reports.
 */
public final class ProgressReporter {
    private static final int BAR_WIDTH = 30;
    private static final long BAR_REDRAW_NANOS = 200_000_000L;

    /** How progress is shown. */
    public enum Mode {
        BAR,
        LINES,
        NONE
    }

    private final PrintWriter err;
    private final Mode mode;
    private final String unit;
    private final long total;
    private final long lineIntervalNanos;
    private final long start = System.nanoTime();
    private long done;
    private long lastShown = start;

    public ProgressReporter(
            PrintWriter err, Mode mode, String unit, long total, long lineIntervalMillis) {
        this.err = err;
        this.mode = mode;
        this.unit = unit;
        this.total = total;
        this.lineIntervalNanos = lineIntervalMillis * 1_000_000L;
    }

    /** {@code BAR} when standard error is a terminal, {@code LINES} otherwise. */
    public static Mode auto() {
        return Terminals.stderrIsTerminal() ? Mode.BAR : Mode.LINES;
    }

    /** One more item is done. */
    public void advance() {
        advanceTo(done + 1);
    }

    /** {@code count} items are done in all (a count read back from somewhere). */
    public void advanceTo(long count) {
        if (count == done) {
            return;
        }
        done = count;
        long now = System.nanoTime();
        if (mode == Mode.BAR && (now - lastShown >= BAR_REDRAW_NANOS || done == total)) {
            lastShown = now;
            drawBar(now);
        } else if (mode == Mode.LINES && now - lastShown >= lineIntervalNanos) {
            lastShown = now;
            err.printf(
                    Locale.ROOT,
                    "progress: %d/%d %s (%.0f%%), %s %s/s%s%n",
                    done,
                    total,
                    unit,
                    100.0 * done / Math.max(1, total),
                    rateText(now),
                    unit,
                    eta(now));
            err.flush();
        }
    }

    private void drawBar(long now) {
        int filled = (int) (BAR_WIDTH * done / Math.max(1, total));
        StringBuilder bar = new StringBuilder(BAR_WIDTH + 64).append("\r[");
        for (int i = 0; i < BAR_WIDTH; i++) {
            bar.append(i < filled ? '#' : '.');
        }
        // Trailing spaces wipe what a longer previous bar left on the line.
        bar.append(
                String.format(
                        Locale.ROOT,
                        "] %d/%d %s %s %s/s%s   ",
                        done,
                        total,
                        unit,
                        rateText(now),
                        unit,
                        eta(now)));
        err.print(bar);
        err.flush();
    }

    /** Items done so far. */
    public long done() {
        return done;
    }

    /** Seconds since the reporter started. */
    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    private double rate(long now) {
        double seconds = (now - start) / 1e9;
        return seconds > 0 ? done / seconds : 0;
    }

    /** The rate with one decimal, or three significant ones below 1 (0.0163 slides/s). */
    private String rateText(long now) {
        double rate = rate(now);
        return rate >= 1 || rate == 0
                ? String.format(Locale.ROOT, "%.1f", rate)
                : String.format(Locale.ROOT, "%.3g", rate);
    }

    /** ", ETA 1m05s" while items are left and a rate is known; empty otherwise. */
    private String eta(long now) {
        double rate = rate(now);
        if (done >= total || rate <= 0) {
            return "";
        }
        long seconds = Math.round((total - done) / rate);
        return seconds >= 60
                ? String.format(Locale.ROOT, ", ETA %dm%02ds", seconds / 60, seconds % 60)
                : String.format(Locale.ROOT, ", ETA %ds", seconds);
    }

    /** Ends the bar's line and prints the summary: items, time and rate. */
    public void finish(String what) {
        long now = System.nanoTime();
        if (mode == Mode.BAR) {
            drawBar(now);
            err.println();
        }
        err.printf(
                Locale.ROOT,
                "%s: %d %s in %.2f s (%s %s/s)%n",
                what,
                done,
                unit,
                (now - start) / 1e9,
                rateText(now),
                unit);
        err.flush();
    }
}
