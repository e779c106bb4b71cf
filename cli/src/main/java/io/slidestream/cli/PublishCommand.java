package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.local.SlidePublisher;
import io.slidestream.schemas.avro.SlideScanned;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream publish URI...}: announces slide files on Kafka, one {@link SlideScanned} each
 * (key = slide id, Avro binary), and prints each published event as one JSON line. Every file is
 * checked before the first event goes out, so a missing one ({@code SLIDE_NOT_FOUND}) publishes
 * nothing.
 */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = "Announce slide files on Kafka (one SlideScanned event per slide).")
final class PublishCommand implements Callable<Integer> {

    /** A URI scheme (two or more characters, so no drive letter is taken for one). */
    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:");

    @Spec CommandSpec spec;

    @Parameters(
            paramLabel = "URI",
            arity = "1..*",
            description = "Slide files: paths (relative to the working folder) or file: URIs.")
    List<String> uris;

    @Mixin KafkaPublishOptions kafka;

    @Option(
            names = "--slide-id",
            paramLabel = "ID",
            description =
                    "Slide id of the event (only with one URI; default: derived from the file's"
                            + " name, size and modification time).")
    String slideId;

    @Override
    public Integer call() throws Exception {
        if (slideId != null && uris.size() != 1) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--slide-id names one slide but " + uris.size() + " URIs were given");
        }
        List<Path> files = new ArrayList<>();
        for (String uri : uris) {
            // Derives the id as publishing would: fails for a missing or unreadable file now,
            // before anything is sent.
            Path file =
                    URI_SCHEME.matcher(uri).lookingAt()
                            ? SlidePublisher.pathOf(uri)
                            : Path.of(uri).toAbsolutePath();
            SlidePublisher.slideIdFor(file);
            files.add(file);
        }
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper json = new ObjectMapper();
        try (SlidePublisher publisher = kafka.publisher()) {
            for (Path file : files) {
                out.println(json.writeValueAsString(line(publisher.publish(file, slideId))));
                out.flush();
            }
        }
        return 0;
    }

    /** What a user (or a script) needs to follow the slide: its id and where it is. */
    static Map<String, Object> line(SlideScanned event) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("slide_id", event.getSlideId());
        line.put("uri", event.getUri());
        line.put("scanned_at", event.getScannedAt().toString());
        line.put("scanner_id", event.getScannerId());
        return line;
    }
}
