package io.slidestream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.settings.ConfigBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The gpfm-tiny fixture (copied from ../shared/fixtures/gpfm-tiny into test resources): the
 * GPFM-family ViT, its tissue head and ABMIL head as ONNX, two preprocessed tiles and the PyTorch
 * reference outputs. Shared with the jobs and integration tests through the operators test-jar.
 */
public final class GpfmTinyFixture {
    public static final String TILE_03 = "tile_03_x1024_y1536_256.png";
    public static final String TILE_08 = "tile_08_x1024_y1024_512.png";
    public static final String PREPROCESSED_03 = "preprocessed_tile_03.f32";
    public static final String PREPROCESSED_08 = "preprocessed_tile_08.f32";

    /** What the references allow: float32 ONNX Runtime vs PyTorch, max absolute difference. */
    public static final float TOLERANCE = 1e-4f;

    private static JsonNode reference;

    private GpfmTinyFixture() {}

    public static Path resource(String name) {
        URL url = GpfmTinyFixture.class.getResource("/gpfm-tiny/" + name);
        if (url == null) {
            throw new IllegalStateException("test resource gpfm-tiny/" + name + " is missing");
        }
        if ("jar".equals(url.getProtocol())) {
            // Another module's tests read this fixture from the operators' test jar: copied to a
            // file once, since ONNX Runtime and the readers take paths.
            return extracted(name, url);
        }
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path extractedDir;

    private static synchronized Path extracted(String name, URL url) {
        try {
            if (extractedDir == null) {
                extractedDir = Files.createTempDirectory("gpfm-tiny-");
                extractedDir.toFile().deleteOnExit();
            }
            Path file = extractedDir.resolve(name);
            if (!Files.exists(file)) {
                try (InputStream in = url.openStream()) {
                    Files.copy(in, file);
                }
                file.toFile().deleteOnExit();
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path model() {
        return resource("gpfm-tiny.onnx");
    }

    public static Path tissueHead() {
        return resource("tissue-head-tiny.onnx");
    }

    public static Path abmil() {
        return resource("abmil-tiny.onnx");
    }

    /** A config for gpfm-tiny on the CPU with the given batch size and otherwise defaults. */
    public static ConfigBuilder<InferenceConfig> config(int batchSize) {
        return InferenceConfig.builder()
                .set(InferenceOptions.MODEL_PATH, model())
                .set(InferenceOptions.BATCH_SIZE, batchSize);
    }

    /** A preprocessed tile: float32 little-endian CHW. */
    public static float[] preprocessed(String file) {
        try {
            byte[] bytes = Files.readAllBytes(resource(file));
            float[] values = new float[bytes.length / Float.BYTES];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static synchronized JsonNode reference() {
        if (reference == null) {
            try {
                reference = new ObjectMapper().readTree(resource("reference.json").toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return reference;
    }

    private static JsonNode tile(String file) {
        for (JsonNode t : reference().get("tiles")) {
            if (t.get("file").asText().equals(file)) {
                return t;
            }
        }
        throw new IllegalArgumentException("no reference tile " + file);
    }

    /** The PyTorch embedding of a reference tile. */
    public static float[] embedding(String tileFile) {
        return floats(tile(tileFile).get("embedding"));
    }

    /** The PyTorch tissue-head probabilities of a reference tile. */
    public static float[] tissueProbabilities(String tileFile) {
        return floats(tile(tileFile).get("tissue_probabilities"));
    }

    /** The tile files of the reference ABMIL bag, in bag order. */
    public static List<String> abmilBag() {
        List<String> bag = new ArrayList<>();
        reference().get("abmil").get("bag").forEach(n -> bag.add(n.asText()));
        return bag;
    }

    public static float[] abmilLogits() {
        return floats(reference().get("abmil").get("logits"));
    }

    public static float[] abmilAttention() {
        return floats(reference().get("abmil").get("attention"));
    }

    public static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    /** Cosine similarity of two vectors of the same length, in double precision. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    public static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
