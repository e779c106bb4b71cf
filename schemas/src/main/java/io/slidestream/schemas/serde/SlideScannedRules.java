package io.slidestream.schemas.serde;

import io.slidestream.schemas.avro.SlideScanned;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * What a {@link SlideScanned} must satisfy beyond its schema, checked where events enter (the Kafka
 * source, the publisher): a slide id that can key every result, and a uri the slide reader can
 * open. The Avro schema cannot say either.
 *
 * <ul>
 *   <li>{@code slide_id}: 1 to {@value #MAX_SLIDE_ID_LENGTH} characters, no control characters, no
 *       leading or trailing whitespace. Otherwise it is an opaque label: SlideStream never builds a
 *       file or folder name from it (the slide is opened by its {@code uri}, under {@code
 *       slides.allowed-roots}; Milvus filters quote it), so an id that looks like a path, {@code
 *       ../../etc} or {@code /etc/passwd}, is stored as text and touches nothing.
 *   <li>{@code uri}: an absolute local path ({@code /data/s1.svs}) or a {@code file:} URI ({@code
 *       file:///data/s1.svs}). Slides are read with OpenSlide, which opens local files only, so
 *       other schemes ({@code s3:}, {@code http:}) are rejected here instead of failing later.
 *   <li>{@code scanner_id}: not blank.
 * </ul>
 */
public final class SlideScannedRules {
    public static final int MAX_SLIDE_ID_LENGTH = 256;

    private SlideScannedRules() {}

    /** Returns {@code event} when it keeps the rules, else says which rule it breaks. */
    public static SlideScanned check(SlideScanned event) throws MalformedEventException {
        String id = checkSlideId(event.getSlideId());
        if (event.getScannerId() == null || event.getScannerId().isBlank()) {
            throw new MalformedEventException(
                    "scanner_id is blank in the event for slide " + id + "; say who announced it");
        }
        toPath(event.getUri(), id);
        return event;
    }

    /** Returns {@code id} when it can key every result, else says which rule it breaks. */
    public static String checkSlideId(String id) throws MalformedEventException {
        if (id == null || id.isEmpty()) {
            throw new MalformedEventException("slide_id is empty; every event needs a stable id");
        }
        if (id.length() > MAX_SLIDE_ID_LENGTH) {
            throw new MalformedEventException(
                    "slide_id is "
                            + id.length()
                            + " characters long; at most "
                            + MAX_SLIDE_ID_LENGTH
                            + " are allowed");
        }
        if (!id.strip().equals(id) || id.chars().anyMatch(Character::isISOControl)) {
            throw new MalformedEventException(
                    "slide_id \""
                            + printable(id)
                            + "\" has leading/trailing whitespace or control characters");
        }
        return id;
    }

    /**
     * The local path a valid {@code uri} names: an absolute path as is, a {@code file:} URI
     * resolved.
     */
    public static Path toPath(String uri, String slideId) throws MalformedEventException {
        if (uri == null || uri.isBlank()) {
            throw new MalformedEventException(
                    "uri is empty in the event for slide " + slideId + "; give the slide's path");
        }
        try {
            if (uri.regionMatches(true, 0, "file:", 0, 5)) {
                URI parsed = new URI(uri);
                if (parsed.getAuthority() != null && !"localhost".equals(parsed.getAuthority())) {
                    throw new MalformedEventException(
                            "uri \""
                                    + printable(uri)
                                    + "\" names host "
                                    + parsed.getAuthority()
                                    + "; only local files can be read (file:///path)");
                }
                return Paths.get(new URI("file", null, parsed.getPath(), null));
            }
            if (uri.indexOf(':') > 0 && !uri.startsWith("/")) {
                throw new MalformedEventException(
                        "uri \""
                                + printable(uri)
                                + "\" has an unsupported scheme; give an absolute path or a"
                                + " file: URI (slides are read from local files)");
            }
            Path path = Path.of(uri);
            if (!path.isAbsolute()) {
                throw new MalformedEventException(
                        "uri \""
                                + printable(uri)
                                + "\" is a relative path; give an absolute path or a file: URI");
            }
            return path;
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MalformedEventException(
                    "uri \""
                            + printable(uri)
                            + "\" is not a valid path or file: URI: "
                            + e.getMessage(),
                    e);
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 120));
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return s.length() > 120 ? b.append("...").toString() : b.toString();
    }
}
