package io.slidestream.inference;

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
 * A trained slide head's card, {@code head.json} beside its {@code head.onnx} ({@code heads train}
 * writes both): {@code head_id} (the task and the first 12 hex digits of the ONNX file's SHA-256,
 * so a retrained head gets a new id), {@code task}, {@code classes} (index as a string → class
 * name), the {@code model_id} and dimension D of the embeddings it reads, the cross-validation
 * {@code metrics}, the number of slides, the seed, and how it was trained. {@link #requireFits}
 * refuses it for another model.
 *
 * <p>{@link #identify} names any slide-head ONNX file the way results record it: by its card when
 * one lies beside it, else by the file name plus the same checksum prefix as model ids, with
 * classes named {@code class 0}, {@code class 1}, ...
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

    /** A slide head's id and class names, as its predictions record them. */
    public record Identity(String headId, List<String> classes) implements java.io.Serializable {}

    /**
     * The identity of the slide head {@code onnx} with {@code classes} outputs: from the card
     * {@code head.json} beside a file named {@code head.onnx} (checked to describe this very file),
     * else the file name without {@code .onnx} plus the first 12 hex digits of its SHA-256.
     *
     * @throws SlideStreamException {@code MODEL_INVALID} when the card is for another file or
     *     another number of classes
     */
    public static Identity identify(Path onnx, int classes) {
        String sha = ModelCard.cachedSha256(onnx);
        String suffix = "-" + sha.substring(0, ModelCard.ID_CHECKSUM_CHARS);
        Path dir = onnx.toAbsolutePath().getParent();
        if (onnx.getFileName().toString().equals(MODEL_FILE)
                && dir != null
                && Files.isRegularFile(dir.resolve(FILE))) {
            HeadCard card;
            try {
                card = read(dir);
            } catch (SlideStreamException e) {
                throw new SlideStreamException(ErrorCode.MODEL_INVALID, e.getMessage(), e);
            }
            if (!card.headId().endsWith(suffix) || card.classes().size() != classes) {
                throw new SlideStreamException(
                        ErrorCode.MODEL_INVALID,
                        dir.resolve(FILE)
                                + " (head "
                                + card.headId()
                                + ", "
                                + card.classes().size()
                                + " classes) does not describe "
                                + onnx
                                + " (checksum "
                                + sha.substring(0, ModelCard.ID_CHECKSUM_CHARS)
                                + ", "
                                + classes
                                + " classes): copy head.onnx and head.json together");
            }
            return new Identity(card.headId(), card.classes());
        }
        String f = onnx.getFileName().toString();
        String stem = f.endsWith(".onnx") ? f.substring(0, f.length() - 5) : f;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("class " + i);
        }
        return new Identity(stem + suffix, List.copyOf(names));
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
