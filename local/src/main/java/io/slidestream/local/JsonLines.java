package io.slidestream.local;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * JSON lines written by a command to a file or standard output. A file is written as a {@code
 * .part} file beside it and renamed when the body succeeds (deleted when it fails), so a failed run
 * leaves no partial output.
 */
public final class JsonLines {
    private JsonLines() {}

    /** What writes the lines. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator json) throws IOException;
    }

    /**
     * Runs {@code body} with a JSON generator on {@code out} (null: on {@code stdout}); says on
     * {@code err} which file it wrote.
     */
    public static void write(Path out, PrintWriter stdout, PrintWriter err, Body body)
            throws IOException {
        JsonFactory factory =
                JsonFactory.builder()
                        .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
                        // Let the writer's buffer decide when to write, not every line.
                        .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
                        .build();
        if (out == null) {
            try (JsonGenerator json = factory.createGenerator(stdout)) {
                body.write(json);
            } finally {
                stdout.flush();
            }
            return;
        }
        Path part = out.resolveSibling(out.getFileName() + ".part");
        boolean done = false;
        try {
            try (Writer writer = Files.newBufferedWriter(part, StandardCharsets.UTF_8);
                    JsonGenerator json = factory.createGenerator(writer)) {
                body.write(json);
            }
            Files.move(
                    part, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            err.println("wrote " + out);
            err.flush();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "cannot write --out " + out.toAbsolutePath() + ": " + e.getMessage(),
                    e);
        } finally {
            if (!done) {
                Files.deleteIfExists(part);
            }
        }
    }
}
