package io.slidestream.local;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one folder (not its subfolders) and publishes a {@link SlideScanned} for every slide file
 * that appears in it, once the file has stopped growing: scanners write large files for minutes,
 * and a half-written slide must not be announced.
 *
 * <p>Each {@link #poll()} lists the folder. A file is a candidate when its extension is a slide
 * format ({@link #SLIDE_EXTENSIONS}, any case), it is a regular non-empty file, and its name does
 * not start with '.' or '~' (hidden and editor/transfer temporaries such as {@code .x.svs.part}).
 * It is published when its size and modification time have been the same at every poll for at least
 * {@code stableFor} (by default two poll intervals, so at least two polls after it was first seen
 * at that size).
 *
 * <p>State: the slide ids already published, kept in memory and appended to a state file ({@code
 * .slidestream-published} in the folder unless given), so a restarted watcher never announces a
 * file twice. The id depends on name, size and modification time ({@link
 * SlidePublisher#slideIdFor}): a file replaced by a new scan under the same name is announced
 * again. A failed publish is logged and retried at the next poll. Polls are serialized; the watcher
 * is safe to use from one scheduler thread ({@link #start()}) or by calling {@link #poll()}
 * directly (tests, with a controllable clock).
 */
public final class FolderWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FolderWatcher.class);

    /** File extensions (lower case, no dot) of the slide formats OpenSlide reads. */
    public static final Set<String> SLIDE_EXTENSIONS =
            Set.of("svs", "tif", "tiff", "ndpi", "vms", "vmu", "scn", "mrxs", "bif", "svslide");

    /** Default name of the state file inside the watched folder. */
    public static final String STATE_FILE = ".slidestream-published";

    /** Publishes one stable slide file and returns the event (e.g. SlidePublisher::publish). */
    @FunctionalInterface
    public interface Publish {
        SlideScanned publish(Path file, String slideId);
    }

    private record Observation(long size, long modifiedMillis, Instant since) {}

    private final Path folder;
    private final Publish publish;
    private final Clock clock;
    private final Duration pollInterval;
    private final Duration stableFor;
    private final Path stateFile;
    private final Consumer<SlideScanned> onPublished;
    private final Map<Path, Observation> pending = new HashMap<>();
    private final Set<String> published = new LinkedHashSet<>();
    private ScheduledExecutorService scheduler;

    private FolderWatcher(Builder b) {
        this.folder = b.folder.toAbsolutePath().normalize();
        this.publish = b.publish;
        this.clock = b.clock;
        this.pollInterval = b.pollInterval;
        this.stableFor = b.stableFor != null ? b.stableFor : b.pollInterval.multipliedBy(2);
        this.stateFile = b.stateFile != null ? b.stateFile : folder.resolve(STATE_FILE);
        this.onPublished = b.onPublished;
        loadState();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Lists the folder once and publishes every slide file that has become stable; returns what
     * this poll published, in file-name order.
     */
    public synchronized List<SlideScanned> poll() {
        Instant now = clock.instant();
        Map<Path, BasicFileAttributes> present = listSlides();
        pending.keySet().retainAll(present.keySet());
        List<SlideScanned> out = new ArrayList<>();
        for (Map.Entry<Path, BasicFileAttributes> e : present.entrySet()) {
            Path file = e.getKey();
            BasicFileAttributes a = e.getValue();
            long modified = a.lastModifiedTime().toMillis();
            Observation seen = pending.get(file);
            if (seen == null || seen.size() != a.size() || seen.modifiedMillis() != modified) {
                // New, or still being written: (re)start its stability clock.
                pending.put(file, new Observation(a.size(), modified, now));
                continue;
            }
            if (Duration.between(seen.since(), now).compareTo(stableFor) < 0) {
                continue;
            }
            String slideId;
            try {
                slideId = SlidePublisher.slideIdFor(file);
            } catch (SlideStreamException gone) {
                continue; // deleted between the listing and now
            }
            if (published.contains(slideId)) {
                continue;
            }
            try {
                SlideScanned event = publish.publish(file, slideId);
                remember(slideId);
                out.add(event);
                onPublished.accept(event);
                LOG.info("Published {} as slide {}", file.getFileName(), slideId);
            } catch (SlideStreamException ex) {
                LOG.warn("Could not publish {} (will retry): {}", file, ex.describe());
            }
        }
        return out;
    }

    /** Polls every poll interval on a daemon thread until {@link #close()}. */
    public synchronized FolderWatcher start() {
        if (scheduler == null) {
            scheduler =
                    Executors.newSingleThreadScheduledExecutor(
                            r -> {
                                Thread t = new Thread(r, "slidestream-folder-watcher");
                                t.setDaemon(true);
                                return t;
                            });
            scheduler.scheduleWithFixedDelay(
                    this::pollQuietly, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** The slide ids published so far, including those of earlier runs. */
    public synchronized Set<String> publishedSlideIds() {
        return Set.copyOf(published);
    }

    public Path folder() {
        return folder;
    }

    @Override
    public void close() {
        ScheduledExecutorService s;
        synchronized (this) {
            s = scheduler;
            scheduler = null;
        }
        if (s != null) {
            s.shutdownNow();
            try {
                s.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and keep watching.
            LOG.warn("Polling {} failed: {}", folder, e.toString());
        }
    }

    private Map<Path, BasicFileAttributes> listSlides() {
        Map<Path, BasicFileAttributes> out = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(folder)) {
            for (Path file : dir) {
                if (!isSlideName(file.getFileName().toString())) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                    if (a.isRegularFile() && a.size() > 0) {
                        out.put(file, a);
                    }
                } catch (IOException vanished) {
                    // removed or renamed since the listing: it is simply not there
                }
            }
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.ACCESS_DENIED,
                    "cannot list the watched folder " + folder + ": " + e,
                    e);
        }
        return out;
    }

    /** A slide extension, and neither hidden ('.') nor a temporary ('~') name. */
    public static boolean isSlideName(String name) {
        if (name.startsWith(".") || name.startsWith("~")) {
            return false;
        }
        int dot = name.lastIndexOf('.');
        return dot > 0
                && SLIDE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private void loadState() {
        if (!Files.exists(stateFile)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(stateFile, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    published.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.ACCESS_DENIED,
                    "cannot read the watcher's state file " + stateFile + ": " + e.getMessage(),
                    e);
        }
    }

    private void remember(String slideId) {
        published.add(slideId);
        try {
            // One id per line, appended and synced: a crash loses at most the line being written.
            Files.writeString(
                    stateFile,
                    slideId + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the watcher's state file " + stateFile, e);
        }
    }

    /** Settings; folder and publish are required. */
    public static final class Builder {
        private Path folder;
        private Publish publish;
        private Clock clock = Clock.systemUTC();
        private Duration pollInterval = Duration.ofSeconds(2);
        private Duration stableFor;
        private Path stateFile;
        private Consumer<SlideScanned> onPublished = e -> {};

        private Builder() {}

        public Builder folder(Path folder) {
            this.folder = folder;
            return this;
        }

        /** Where events go, usually {@code publisher::publish} of a {@link SlidePublisher}. */
        public Builder publish(Publish publish) {
            this.publish = publish;
            return this;
        }

        public Builder publisher(SlidePublisher publisher) {
            return publish(publisher::publish);
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        /** How long size and time must stay unchanged; default two poll intervals. */
        public Builder stableFor(Duration stableFor) {
            this.stableFor = stableFor;
            return this;
        }

        /** Where the published ids are kept; default {@code <folder>/.slidestream-published}. */
        public Builder stateFile(Path stateFile) {
            this.stateFile = stateFile;
            return this;
        }

        /** Called after each successful publish (progress output). */
        public Builder onPublished(Consumer<SlideScanned> onPublished) {
            this.onPublished = Objects.requireNonNull(onPublished, "onPublished");
            return this;
        }

        public FolderWatcher build() {
            if (folder == null || !Files.isDirectory(folder)) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "the folder to watch, " + folder + ", is not an existing directory");
            }
            if (publish == null) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST, "FolderWatcher needs a publisher");
            }
            if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "FolderWatcher poll interval must be positive, not " + pollInterval);
            }
            if (stableFor != null && stableFor.isNegative()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "FolderWatcher stable time must not be negative, not " + stableFor);
            }
            return new FolderWatcher(this);
        }
    }
}
