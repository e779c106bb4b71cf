package io.slidestream.local;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The inbox of one benchmark run: a folder holding exactly that run's slides, so that slides an
 * earlier run left behind (another mode, another size) are never processed again and mixed into the
 * figures. The slides themselves live in a cache folder and are hard-linked in (a resection slide
 * takes half a minute to write; a link costs nothing and, unlike a symbolic link, keeps the file
 * under the inbox for the allowed-roots check).
 *
 * <p>The folder is emptied at every run, so it must be new, empty or made by an earlier run (it
 * then holds the marker {@value #MARKER}); any other folder is refused untouched.
 */
public final class RunInbox {
    static final String MARKER = ".slidestream-run-inbox";

    private RunInbox() {}

    /** Empties {@code inbox} (see the class comment) and links {@code slides} into it. */
    public static Path prepare(Path inbox, List<Path> slides) throws IOException {
        if (Files.isDirectory(inbox)) {
            boolean ours;
            try (Stream<Path> entries = Files.list(inbox)) {
                ours = Files.exists(inbox.resolve(MARKER)) || entries.findAny().isEmpty();
            }
            if (!ours) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        inbox
                                + " is not empty and was not made by a benchmark run, which empties"
                                + " it every time; nothing was touched. Move it away or give"
                                + " another --work-dir.");
            }
            try (Stream<Path> entries = Files.list(inbox)) {
                for (Path entry : entries.toList()) {
                    if (Files.isDirectory(entry)) {
                        throw new SlideStreamException(
                                ErrorCode.INVALID_REQUEST,
                                inbox + " holds a folder (" + entry + "); nothing was removed");
                    }
                    Files.delete(entry);
                }
            }
        }
        Files.createDirectories(inbox);
        Files.createFile(inbox.resolve(MARKER));
        for (Path slide : slides) {
            Files.createLink(inbox.resolve(slide.getFileName()), slide);
        }
        return inbox;
    }
}
