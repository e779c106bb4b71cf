package io.slidestream.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model card {@code tools/export_onnx.py} writes beside an exported model ({@code M.onnx} ->
 * {@code M.card.json}): architecture, embedding size, input size, normalisation, the tile field of
 * view the model was trained at and the checksums of the source weights and of the ONNX file. The
 * engine reads it when present and checks that it describes the file it sits beside.
 *
 * <p>{@link #modelId} is recorded with every embedding: the card's name plus the first 12 hex
 * digits of the ONNX file's SHA-256, or without a card the file name (without {@code .onnx}) plus
 * the same checksum, so two different exports never share an id.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class ModelCard {
    /** Hex digits of the ONNX file's SHA-256 in a model id. */
    public static final int ID_CHECKSUM_CHARS = 12;

    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonProperty("name")
    public String name;

    @JsonProperty("architecture")
    public String architecture;

    @JsonProperty("embedding_dim")
    public int embeddingDim;

    @JsonProperty("input_size")
    public int inputSize;

    @JsonProperty("fp16")
    public boolean fp16;

    @JsonProperty("normalization")
    public Normalization normalization;

    @JsonProperty("tile")
    public Tile tile;

    @JsonProperty("source_weights")
    public Checksummed sourceWeights;

    @JsonProperty("onnx")
    public Checksummed onnx;

    /** ImageNet-style normalisation applied after dividing by 255. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Normalization {
        @JsonProperty("mean")
        public float[] mean;

        @JsonProperty("std")
        public float[] std;

        @JsonProperty("resize")
        public String resize;
    }

    /** The field of view the model expects: {@code tilePx} pixels at {@code targetMpp} µm/px. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Tile {
        @JsonProperty("target_mpp")
        public double targetMpp;

        @JsonProperty("tile_px")
        public int tilePx;
    }

    /** A file and its SHA-256 (hex); {@code file} is null for random weights. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Checksummed {
        @JsonProperty("file")
        public String file;

        @JsonProperty("sha256")
        public String sha256;
    }

    /** Where the card of {@code model} lives: {@code M.onnx} -> {@code M.card.json}. */
    public static Path cardPath(Path model) {
        String file = model.getFileName().toString();
        String stem = file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
        return model.resolveSibling(stem + ".card.json");
    }

    /** The card beside {@code model}, or empty; an unreadable card is {@code MODEL_INVALID}. */
    public static Optional<ModelCard> readBeside(Path model) {
        Path card = cardPath(model);
        if (!Files.isRegularFile(card)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(card.toFile(), ModelCard.class));
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model card " + card + " is not valid JSON: " + e.getMessage(),
                    e);
        }
    }

    /**
     * Checks that this card describes {@code model}: same ONNX checksum (when the card has one),
     * same embedding size and input size as the loaded model.
     */
    public void checkDescribes(Path model, String onnxSha256, int dimension, int inputSize) {
        if (onnx != null && onnx.sha256 != null && !onnx.sha256.equalsIgnoreCase(onnxSha256)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model card "
                            + cardPath(model)
                            + " describes an ONNX file with sha256 "
                            + onnx.sha256
                            + " but "
                            + model
                            + " has sha256 "
                            + onnxSha256
                            + ": re-export the model or remove the stale card");
        }
        if (embeddingDim > 0 && embeddingDim != dimension) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model card "
                            + cardPath(model)
                            + " says embedding_dim="
                            + embeddingDim
                            + " but the model outputs D="
                            + dimension);
        }
        if (this.inputSize > 0 && this.inputSize != inputSize) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    "model card "
                            + cardPath(model)
                            + " says input_size="
                            + this.inputSize
                            + " but the model takes "
                            + inputSize
                            + " px");
        }
    }

    /** The model id for {@code model}: card name or file stem, plus the checksum prefix. */
    public static String modelId(Path model, Optional<ModelCard> card, String onnxSha256) {
        String name =
                card.map(c -> c.name)
                        .filter(n -> !n.isBlank())
                        .orElseGet(
                                () -> {
                                    String f = model.getFileName().toString();
                                    return f.endsWith(".onnx") ? f.substring(0, f.length() - 5) : f;
                                });
        return name + "-" + onnxSha256.substring(0, ID_CHECKSUM_CHARS);
    }

    /**
     * The model id of the ONNX file {@code model}, as the engine that loads it records it: {@link
     * #modelId} with the card beside it and its checksum. For operators that must name the job's
     * model without loading it (the planner's removals); the checksum comes from {@link
     * #cachedSha256}.
     */
    public static String idOf(Path model) {
        return modelId(model, readBeside(model), cachedSha256(model));
    }

    /**
     * {@link #sha256} remembered per file, path, size and modification time: the engine and the
     * planner of a TaskManager hash a 1.2 GB model once, not once each.
     */
    public static String cachedSha256(Path file) {
        String key;
        try {
            key =
                    file.toAbsolutePath()
                            + "|"
                            + Files.size(file)
                            + "|"
                            + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID, "cannot read model file " + file + ": " + e, e);
        }
        return SHA256_BY_FILE.computeIfAbsent(key, k -> sha256(file));
    }

    private static final Map<String, String> SHA256_BY_FILE = new ConcurrentHashMap<>();

    /** SHA-256 of a file, hex; streamed, so a 1.2 GB model needs no heap. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID, "cannot read model file " + file + ": " + e, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
