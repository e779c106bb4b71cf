package io.slidestream.slide;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Opens slides named by a path or a {@code file:} URI and turns every way that can fail into a
 * typed outcome: {@code SLIDE_NOT_FOUND} (missing file, a directory), {@code ACCESS_DENIED}
 * (outside the allowed roots after resolving symlinks, unreadable), {@code UNSUPPORTED_FORMAT}
 * (zero bytes, not a slide), {@code CORRUPT_SLIDE} (truncated, or OpenSlide's handle in an error
 * state), {@code INVALID_REQUEST} (a URI that is not a local file). Each message says what was
 * wrong and what to do.
 *
 * <p>Stateless apart from its immutable configuration; safe to share between threads.
 */
public final class SlideOpener {

    /** A scheme followed by "//": a URI other than a plain path. */
    private static final Pattern URI_WITH_AUTHORITY =
            Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");

    /** Real paths (symlinks resolved) of the allowed roots; empty when any path is allowed. */
    private final List<Path> allowedRoots;

    private final SlideReader reader;

    private SlideOpener(List<Path> allowedRoots, SlideReader reader) {
        this.allowedRoots = List.copyOf(allowedRoots);
        this.reader = reader;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** An opener for trusted input (command line, tests): every path is allowed. */
    public static SlideOpener unrestricted() {
        return new SlideOpener(List.of(), SlideReader.AUTO);
    }

    /**
     * An opener for the configured slide folders ({@code slides.allowed-roots}; empty allows any
     * path) reading regions as {@code reader} says ({@code slides.reader}).
     *
     * @throws IllegalArgumentException when a root does not exist
     */
    public static SlideOpener forRoots(List<String> roots, SlideReader reader) {
        Builder b = builder().reader(reader);
        if (roots.isEmpty()) {
            b.allowAnyPath();
        } else {
            roots.forEach(root -> b.allowedRoot(Path.of(root)));
        }
        return b.build();
    }

    /** The same opener reading regions as {@code other} says. */
    public SlideOpener withReader(SlideReader other) {
        return new SlideOpener(allowedRoots, other);
    }

    /** How the slides this opener opens read their regions. */
    public SlideReader reader() {
        return reader;
    }

    /** The allowed roots as real paths; empty when any path is allowed. */
    public List<Path> allowedRoots() {
        return allowedRoots;
    }

    /**
     * Opens the slide at {@code location} (a path or a {@code file:} URI).
     *
     * @throws SlideStreamException with the outcome's code when the slide cannot be opened
     */
    public OpenSlide open(String location) {
        return open(toPath(location));
    }

    /** Opens the slide at {@code path}; see {@link #open(String)}. */
    public OpenSlide open(Path path) {
        Path file = checkPath(path);
        try {
            return OpenSlide.open(file, reader);
        } catch (SlideStreamException e) {
            if (e.code() != ErrorCode.UNSUPPORTED_FORMAT) {
                throw e;
            }
            String truncation;
            try {
                truncation = TiffIntegrity.findTruncation(file);
            } catch (IOException io) {
                throw new SlideStreamException(
                        ErrorCode.ACCESS_DENIED,
                        "slide " + path + " could not be read: " + io.getMessage(),
                        io);
            }
            if (truncation == null) {
                throw e;
            }
            throw new SlideStreamException(
                    ErrorCode.CORRUPT_SLIDE,
                    String.format(
                            "slide %s is a truncated TIFF: %s; the file is incomplete (an"
                                    + " interrupted copy or scan), copy or export it again",
                            path, truncation));
        }
    }

    /**
     * Resolves and checks a location without opening it: the real path of a regular, readable,
     * non-empty file under the allowed roots.
     *
     * @throws SlideStreamException {@code SLIDE_NOT_FOUND}, {@code ACCESS_DENIED}, {@code
     *     UNSUPPORTED_FORMAT} (empty file) or {@code INVALID_REQUEST}
     */
    public Path checkPath(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        if (!Files.exists(absolute)) {
            Path resolved = resolveExistingAncestor(absolute);
            if (!isAllowed(resolved)) {
                throw outsideRoots(path, resolved);
            }
            throw new SlideStreamException(
                    ErrorCode.SLIDE_NOT_FOUND,
                    "no slide at "
                            + path
                            + ": the file does not exist; check the path, and that the scanner"
                            + " or copy has finished writing it");
        }
        Path real;
        try {
            real = absolute.toRealPath();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.ACCESS_DENIED,
                    "slide "
                            + path
                            + " could not be resolved ("
                            + e
                            + "); check the permissions"
                            + " of its folders",
                    e);
        }
        if (!isAllowed(real)) {
            throw outsideRoots(path, real);
        }
        if (Files.isDirectory(real)) {
            throw new SlideStreamException(
                    ErrorCode.SLIDE_NOT_FOUND,
                    path
                            + " is a directory, not a slide file; name the slide file itself (for"
                            + " MIRAX the .mrxs file beside the data folder)");
        }
        if (!Files.isRegularFile(real)) {
            throw new SlideStreamException(
                    ErrorCode.SLIDE_NOT_FOUND,
                    path + " is not a regular file (a device, socket or pipe); name a slide file");
        }
        if (!Files.isReadable(real)) {
            throw new SlideStreamException(
                    ErrorCode.ACCESS_DENIED,
                    "slide "
                            + path
                            + " cannot be read by this process; grant read permission"
                            + " to the user running SlideStream");
        }
        long size;
        try {
            size = Files.size(real);
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.ACCESS_DENIED, "slide " + path + " could not be read: " + e, e);
        }
        if (size == 0) {
            throw new SlideStreamException(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    "slide "
                            + path
                            + " is empty (0 bytes); the scanner or copy has not written"
                            + " it yet or failed, send it again once it is complete");
        }
        return real;
    }

    /**
     * A path from a plain path or a {@code file:} URI.
     *
     * @throws SlideStreamException {@code INVALID_REQUEST} for other URIs and malformed input
     */
    public static Path toPath(String location) {
        if (location == null || location.isBlank()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "no slide location given; pass a path or a file: URI");
        }
        try {
            if (location.regionMatches(true, 0, "file:", 0, 5)) {
                URI uri = new URI(location);
                if (uri.getAuthority() != null && !uri.getAuthority().equals("localhost")) {
                    throw new SlideStreamException(
                            ErrorCode.INVALID_REQUEST,
                            "slide URI "
                                    + location
                                    + " names the remote host '"
                                    + uri.getAuthority()
                                    + "'; only local files are read, use file:///path/to/slide");
                }
                return Path.of(new URI("file", null, uri.getPath(), null));
            }
            if (URI_WITH_AUTHORITY.matcher(location).matches()) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "slide location "
                                + location
                                + " is not a local file; only paths and file: URIs are read"
                                + " (copy or mount the slide locally)");
            }
            return Path.of(location);
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "slide location "
                            + location
                            + " is not a valid path or file: URI ("
                            + e.getMessage()
                            + "); percent-encode special characters in URIs",
                    e);
        }
    }

    /**
     * The path with its deepest existing ancestor resolved to a real path, so a missing file under
     * a symlinked root is still judged by where it would be.
     */
    private static Path resolveExistingAncestor(Path absolute) {
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            return absolute;
        }
    }

    private boolean isAllowed(Path path) {
        if (allowedRoots.isEmpty()) {
            return true;
        }
        for (Path root : allowedRoots) {
            if (path.startsWith(root)) {
                return true;
            }
        }
        return false;
    }

    private SlideStreamException outsideRoots(Path given, Path resolved) {
        return new SlideStreamException(
                ErrorCode.ACCESS_DENIED,
                String.format(
                        "slide %s%s lies outside the allowed slide folders %s; move it under one"
                                + " of them or add its folder to the allowed roots",
                        given,
                        given.equals(resolved) ? "" : " (resolved to " + resolved + ")",
                        allowedRoots));
    }

    /** Configuration of a {@link SlideOpener}. */
    public static final class Builder {
        private final List<Path> roots = new ArrayList<>();
        private boolean anyPath;
        private SlideReader reader = SlideReader.AUTO;

        private Builder() {}

        /** How regions are read ({@code slides.reader}; default {@link SlideReader#AUTO}). */
        public Builder reader(SlideReader how) {
            reader = java.util.Objects.requireNonNull(how, "reader");
            return this;
        }

        /** Allows slides under {@code root} (symlinks resolved at {@link #build()}). */
        public Builder allowedRoot(Path root) {
            roots.add(root);
            return this;
        }

        public Builder allowedRoots(Collection<Path> allowed) {
            roots.addAll(allowed);
            return this;
        }

        /** Allows every path: for trusted input only. */
        public Builder allowAnyPath() {
            anyPath = true;
            return this;
        }

        /**
         * @throws IllegalArgumentException when no roots are given and {@link #allowAnyPath()} was
         *     not called, or a root does not exist
         */
        public SlideOpener build() {
            if (anyPath) {
                if (!roots.isEmpty()) {
                    throw new IllegalArgumentException(
                            "allowAnyPath() and allowed roots " + roots + " contradict; use one");
                }
                return new SlideOpener(List.of(), reader);
            }
            if (roots.isEmpty()) {
                throw new IllegalArgumentException(
                        "no allowed slide roots configured: add the folders slides may come from"
                                + " with allowedRoot(..), or call allowAnyPath() for trusted"
                                + " input");
            }
            List<Path> real = new ArrayList<>();
            for (Path root : roots) {
                try {
                    real.add(root.toAbsolutePath().normalize().toRealPath());
                } catch (IOException e) {
                    throw new IllegalArgumentException(
                            "allowed slide root "
                                    + root
                                    + " does not exist or cannot be"
                                    + " resolved ("
                                    + e
                                    + "); create it or fix the configuration",
                            e);
                }
            }
            return new SlideOpener(real, reader);
        }
    }
}
