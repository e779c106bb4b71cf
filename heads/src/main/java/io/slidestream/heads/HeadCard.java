package io.slidestream.heads;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A trained head's card, {@code head.json} beside its {@code head.onnx}: {@code head_id} (the task
 * and the first 12 hex digits of the ONNX file's SHA-256, so a retrained head gets a new id),
 * {@code task}, {@code classes} (index as a string → class name), the {@code model_id} and
 * dimension D of the embeddings it reads, the cross-validation {@code metrics}, the number of
 * slides, the seed, and how it was trained. {@link #requireFits} refuses it for another model.
 */
public record HeadCard(
        String headId,
        String task,
        List<String> classes,
        String modelId,
        int dimension,
        int slides,
        long seed,
        JsonNode metrics,
        JsonNode training) {

    public static final String FILE = "head.json";
    public static final String MODEL_FILE = "head.onnx";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The card as JSON. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("head_id", headId);
        o.put("task", task);
        ObjectNode names = o.putObject("classes");
        for (int i = 0; i < classes.size(); i++) {
            names.put(Integer.toString(i), classes.get(i));
        }
        o.put("model_id", modelId);
        o.put("dimension", dimension);
        o.put("slides", slides);
        o.put("seed", seed);
        o.set("metrics", metrics);
        o.set("training", training);
        return o;
    }

    /** Writes the card to {@code dir/head.json}. */
    public void write(Path dir) {
        try {
            JSON.writeValue(dir.resolve(FILE).toFile(), toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + dir.resolve(FILE), e);
        }
    }

    /** Reads {@code dir/head.json}. */
    public static HeadCard read(Path dir) {
        Path file = dir.resolve(FILE);
        JsonNode o;
        try {
            o = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    file
                            + " is not a readable head card ("
                            + e.getMessage()
                            + "): point at the"
                            + " folder `heads train --out` wrote");
        }
        List<String> classes = new ArrayList<>();
        JsonNode names = o.path("classes");
        for (int i = 0; names.has(Integer.toString(i)); i++) {
            classes.add(names.get(Integer.toString(i)).asText());
        }
        if (!o.hasNonNull("head_id") || !o.hasNonNull("model_id") || classes.size() < 2) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    file
                            + " lacks head_id, model_id or at least two classes: it is not a card"
                            + " `heads train` wrote");
        }
        return new HeadCard(
                o.get("head_id").asText(),
                o.path("task").asText(),
                List.copyOf(classes),
                o.get("model_id").asText(),
                o.path("dimension").asInt(),
                o.path("slides").asInt(),
                o.path("seed").asLong(),
                o.path("metrics"),
                o.path("training"));
    }

    /**
     * Fails with {@code INVALID_REQUEST} unless this head reads embeddings of {@code modelId} with
     * {@code dimension} values.
     */
    public void requireFits(String modelId, int dimension) {
        if (!this.modelId.equals(modelId) || this.dimension != dimension) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "head "
                            + headId
                            + " was trained on embeddings of model "
                            + this.modelId
                            + " (D="
                            + this.dimension
                            + "), not of "
                            + modelId
                            + " (D="
                            + dimension
                            + "): train a head on this model's bags (`heads train --model-id "
                            + modelId
                            + "`)");
        }
    }
}
