package io.slidestream.slide;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A bounded, thread-safe cache of open {@link OpenSlide} handles for readers on several threads:
 * tiles of one slide arrive close together, so a slide is opened once and its handle shared by all
 * reads (OpenSlide reads are thread-safe). Slides are opened through a {@link SlideOpener}, so its
 * path policy (allowed roots, missing files) applies to every open.
 *
 * <p>Each use {@linkplain #acquire acquires} a {@link Lease} and closes it after the read. A handle
 * that is evicted (least recently used beyond {@code maxOpen}), {@linkplain #invalidate
 * invalidated} or left at {@link #close} is closed only when its last lease is closed, so a read in
 * flight is never cut off by another thread's eviction. Opening happens under the cache's lock:
 * concurrent first reads of one slide open it once; opens of different slides wait for each other,
 * which is cheap next to the reads they enable.
 */
public final class SlideHandleCache implements AutoCloseable {

    private final SlideOpener opener;
    private final int maxOpen;

    /** Access-ordered, so the eldest entry is the least recently used. Guarded by {@code this}. */
    private final LinkedHashMap<String, Entry> open = new LinkedHashMap<>(16, 0.75f, true);

    private boolean closed;

    /**
     * @param opener opens slides with the job's path policy
     * @param maxOpen most handles kept open when idle: enough for the slides in flight, bounded
     *     because each holds OpenSlide's tile cache
     */
    public SlideHandleCache(SlideOpener opener, int maxOpen) {
        if (maxOpen < 1) {
            throw new IllegalArgumentException("maxOpen must be at least 1, got " + maxOpen);
        }
        this.opener = Objects.requireNonNull(opener, "opener");
        this.maxOpen = maxOpen;
    }

    /**
     * The open handle of {@code uri}, opened on first use.
     *
     * @throws io.slidestream.errors.SlideStreamException as {@link SlideOpener#open(String)}
     * @throws IllegalStateException after {@link #close}
     */
    public synchronized Lease acquire(String uri) {
        if (closed) {
            throw new IllegalStateException("slide handle cache is closed");
        }
        Entry entry = open.get(uri);
        if (entry == null) {
            entry = new Entry(opener.open(uri));
            open.put(uri, entry);
            evictBeyond(maxOpen);
        }
        entry.users++;
        return new Lease(uri, entry);
    }

    /** Handles currently cached (not counting retired ones still in use). */
    public synchronized int size() {
        return open.size();
    }

    /** Closes every handle, each once its reads in flight are done. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        evictBeyond(0);
    }

    private void evictBeyond(int keep) {
        Iterator<Map.Entry<String, Entry>> it = open.entrySet().iterator();
        while (open.size() > keep && it.hasNext()) {
            Entry eldest = it.next().getValue();
            it.remove();
            retire(eldest);
        }
    }

    private void retire(Entry entry) {
        entry.retired = true;
        if (entry.users == 0) {
            entry.slide.close();
        }
    }

    /** Drops {@code entry} if it is still the cached handle of {@code uri}. */
    private synchronized void invalidate(String uri, Entry entry) {
        if (open.get(uri) == entry) {
            open.remove(uri);
        }
        retire(entry);
    }

    private synchronized void release(Entry entry) {
        entry.users--;
        if (entry.retired && entry.users == 0) {
            entry.slide.close();
        }
    }

    private static final class Entry {
        final OpenSlide slide;
        int users;
        boolean retired;

        Entry(OpenSlide slide) {
            this.slide = slide;
        }
    }

    /** One use of a cached handle; close it (once) when the read is done. */
    public final class Lease implements AutoCloseable {
        private final String uri;
        private final Entry entry;
        private boolean released;

        private Lease(String uri, Entry entry) {
            this.uri = uri;
            this.entry = entry;
        }

        public OpenSlide slide() {
            return entry.slide;
        }

        /**
         * Takes this handle out of the cache (after a failed read: OpenSlide's error state is
         * sticky, every later read of the handle would fail); it closes with its last lease.
         */
        public void invalidate() {
            SlideHandleCache.this.invalidate(uri, entry);
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                release(entry);
            }
        }
    }
}
