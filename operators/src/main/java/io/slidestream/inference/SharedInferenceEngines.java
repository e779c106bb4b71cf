package io.slidestream.inference;

import io.slidestream.runtime.JobClassLoaderCleanup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link TileInferenceEngine} per model and settings per TaskManager process, shared by every
 * subtask (slot) that asks for it, so a 1.2 GB model sits once in each GPU's memory. Reference
 * counted: the first {@link #acquire} loads the engine and each {@link Lease#close} gives one
 * reference (and its queue reservation) back. Keyed by {@link InferenceConfig#engineKey()} (model
 * files, provider, device, threads, batching).
 *
 * <p><b>Across failovers.</b> An engine whose last lease was given back stays loaded, idle: when
 * the job restarts on the same TaskManager, its subtasks lease the loaded engine again instead of
 * reading and initialising the model once more (seconds for GPFM, and a GPU's memory churned). Idle
 * engines are closed when the job leaves the TaskManager - Flink then releases the job's class
 * loader and {@link JobClassLoaderCleanup} runs {@link #closeIdle} - or by {@link #closeIdle}
 * directly.
 *
 * <p><b>A broken engine</b> (every batch fails, the known-good probe too: {@code ENGINE_FAILED}) is
 * {@linkplain Lease#discard discarded} by the subtask that found it: no later acquire gets it, so
 * the job's restart loads the model afresh, and it is closed when its last lease is given back -
 * never under a call still running on it.
 *
 * <p>The registry is static and so lives in the class loader that loaded this class: with the job's
 * jar that is one registry per job per TaskManager (application mode: per TaskManager). A load that
 * fails is not cached; the next subtask tries again.
 */
public final class SharedInferenceEngines {
    private static final Logger LOG = LoggerFactory.getLogger(SharedInferenceEngines.class);

    private static final Map<String, Entry> ENGINES = new HashMap<>();

    /** Discarded engines some lease still holds; each is closed with its last lease. */
    private static final Set<Entry> DISCARDED = new HashSet<>();

    private SharedInferenceEngines() {}

    /**
     * The shared engine for {@code config}, loaded on first use, with {@code config.capacity()}
     * places of its queue reserved for this caller. Close the lease when done.
     */
    public static Lease acquire(InferenceConfig config) {
        return acquire(config, config.capacity(), TileInferenceEngine::open);
    }

    /**
     * The shared engine for {@code config} with {@code places} of its queue reserved: 0 for a user
     * that only needs the model's shape (the tile reader) and submits nothing.
     */
    public static Lease acquire(InferenceConfig config, int places) {
        return acquire(config, places, TileInferenceEngine::open);
    }

    /** As {@link #acquire(InferenceConfig)}, with the engine built by {@code opener}. */
    static Lease acquire(
            InferenceConfig config, Function<InferenceConfig, TileInferenceEngine> opener) {
        return acquire(config, config.capacity(), opener);
    }

    private static synchronized Lease acquire(
            InferenceConfig config,
            int places,
            Function<InferenceConfig, TileInferenceEngine> opener) {
        JobClassLoaderCleanup.onRelease(SharedInferenceEngines::closeIdle);
        String key = config.engineKey();
        Entry entry = ENGINES.get(key);
        if (entry == null) {
            // Loading under the lock: other subtasks must wait for this load, not start another.
            entry = new Entry(key, opener.apply(config));
            ENGINES.put(key, entry);
            LOG.info("Loaded shared inference engine {} for {}", entry.engine.modelId(), config);
        }
        entry.engine.reserve(places);
        entry.references++;
        return new Lease(entry, places);
    }

    /** Engines currently loaded in this process, in use or idle. */
    public static synchronized int loadedEngines() {
        return ENGINES.size();
    }

    /** Leases currently held, over all engines (zero once every subtask has closed). */
    public static synchronized int leases() {
        return entries().stream().mapToInt(e -> e.references).sum();
    }

    /** Queue places currently reserved, over all engines (zero once every lease is closed). */
    public static synchronized int reservedPlaces() {
        return entries().stream().mapToInt(e -> e.engine.reserved()).sum();
    }

    /** The engines that later acquires get (for diagnostics and tests). */
    public static synchronized List<TileInferenceEngine> loaded() {
        return ENGINES.values().stream().map(e -> e.engine).toList();
    }

    private static List<Entry> entries() {
        List<Entry> all = new ArrayList<>(ENGINES.values());
        all.addAll(DISCARDED);
        return all;
    }

    /** Closes every engine that no lease uses; returns how many. */
    public static synchronized int closeIdle() {
        int closed = 0;
        for (var it = ENGINES.entrySet().iterator(); it.hasNext(); ) {
            Entry entry = it.next().getValue();
            if (entry.references == 0) {
                it.remove();
                LOG.info("Closing idle inference engine {}", entry.engine.modelId());
                entry.engine.close();
                closed++;
            }
        }
        return closed;
    }

    private static synchronized void release(Entry entry, int inFlight) {
        entry.engine.release(inFlight);
        if (--entry.references > 0) {
            return;
        }
        if (DISCARDED.remove(entry)) {
            LOG.info("Closing discarded inference engine {}", entry.engine.modelId());
            entry.engine.close();
        } else {
            LOG.info(
                    "Inference engine {} is idle: kept loaded for a restart of the job on this"
                            + " TaskManager",
                    entry.engine.modelId());
        }
    }

    private static synchronized void discard(Entry entry) {
        if (ENGINES.get(entry.key) == entry) {
            ENGINES.remove(entry.key);
            DISCARDED.add(entry);
            LOG.warn(
                    "Inference engine {} is broken: discarded, the next subtask to start loads the"
                            + " model afresh",
                    entry.engine.modelId());
        }
    }

    private static final class Entry {
        final String key;
        final TileInferenceEngine engine;
        int references;

        Entry(String key, TileInferenceEngine engine) {
            this.key = key;
            this.engine = engine;
        }
    }

    /** One user's reference to a shared engine; closing it twice is harmless. */
    public static final class Lease implements AutoCloseable {
        private final Entry entry;
        private final int inFlight;
        private boolean closed;

        private Lease(Entry entry, int inFlight) {
            this.entry = entry;
            this.inFlight = inFlight;
        }

        public TileInferenceEngine engine() {
            return entry.engine;
        }

        /**
         * The engine is broken: later acquires load a new one, and this one is closed when its last
         * lease (this one included) is given back.
         */
        public void discard() {
            SharedInferenceEngines.discard(entry);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                release(entry, inFlight);
            }
        }
    }
}
