package io.slidestream.heads;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A lab's slide labels: a CSV file with a header naming the columns {@code slide_id} and {@code
 * label} (others are ignored, as CLAM's and TRIDENT's label files carry more), one row per slide,
 * quoted as CSV quotes. Class names are the labels as written; their index is their place in sorted
 * order. A slide listed twice with the same label counts once; with two labels it is an error.
 */
public record HeadLabels(Path file, Map<String, String> bySlide) {

    /** Reads and checks {@code file}. */
    public static HeadLabels read(Path file) {
        CsvMapper mapper = new CsvMapper();
        mapper.enable(CsvParser.Feature.TRIM_SPACES);
        mapper.enable(CsvParser.Feature.SKIP_EMPTY_LINES);
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        Map<String, String> labels = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        try (MappingIterator<Map<String, String>> rows =
                mapper.readerFor(Map.class)
                        .with(schema)
                        .readValues(Files.newBufferedReader(file))) {
            CsvSchema header = (CsvSchema) rows.getParserSchema();
            if (header.column("slide_id") == null || header.column("label") == null) {
                throw bad(
                        file,
                        "its header must name the columns slide_id and label (found: "
                                + String.join(",", header.getColumnNames())
                                + ")");
            }
            int line = 1;
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                line++;
                String slide = row.getOrDefault("slide_id", "");
                String label = row.getOrDefault("label", "");
                if (slide.isEmpty() || label.isEmpty()) {
                    problems.add("row " + line + " has an empty slide_id or label");
                    continue;
                }
                String before = labels.putIfAbsent(slide, label);
                if (before != null && !before.equals(label)) {
                    problems.add(
                            "slide '"
                                    + slide
                                    + "' is labelled both '"
                                    + before
                                    + "' and '"
                                    + label
                                    + "'");
                }
            }
        } catch (NoSuchFileException e) {
            throw bad(file, "it does not exist");
        } catch (IOException | RuntimeException e) {
            if (e instanceof SlideStreamException s) {
                throw s;
            }
            throw bad(file, "it is not a readable CSV file: " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw bad(file, String.join("; ", problems));
        }
        if (labels.isEmpty()) {
            throw bad(file, "it has a header but no slides");
        }
        return new HeadLabels(file, Map.copyOf(labels));
    }

    /** Class names in index order (sorted). */
    public List<String> classes() {
        return List.copyOf(new TreeMap<>(counts()).keySet());
    }

    /** Slides per class name, sorted by name. */
    public Map<String, Integer> counts() {
        Map<String, Integer> counts = new TreeMap<>();
        bySlide.values().forEach(l -> counts.merge(l, 1, Integer::sum));
        return counts;
    }

    private static SlideStreamException bad(Path file, String what) {
        return new SlideStreamException(
                ErrorCode.INVALID_REQUEST,
                "labels file "
                        + file
                        + ": "
                        + what
                        + " (expected a CSV with header slide_id,label)");
    }
}
