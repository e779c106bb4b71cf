package io.slidestream.inference;

import static io.slidestream.inference.GpfmTinyFixture.PREPROCESSED_03;
import static io.slidestream.inference.GpfmTinyFixture.PREPROCESSED_08;
import static io.slidestream.inference.GpfmTinyFixture.TILE_03;
import static io.slidestream.inference.GpfmTinyFixture.TILE_08;
import static io.slidestream.inference.GpfmTinyFixture.TOLERANCE;
import static io.slidestream.inference.GpfmTinyFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingEngineTest {

    @TempDir Path tmp;

    @Test
    void readsNamesInputSizeAndDimensionFromTheModel() {
        try (EmbeddingEngine engine = EmbeddingEngine.open(GpfmTinyFixture.config(4).build())) {
            assertThat(engine.inputName()).isEqualTo("input");
            assertThat(engine.outputName()).isEqualTo("embedding");
            assertThat(new int[] {engine.channels(), engine.height(), engine.width()})
                    .containsExactly(3, 224, 224);
            assertThat(engine.dimension()).isEqualTo(256);
            assertThat(engine.tileValues()).isEqualTo(3 * 224 * 224);
            assertThat(engine.maxBatch()).isEqualTo(4);
        }
    }

    @Test
    void embedsPreprocessedTilesWithinToleranceOfThePyTorchReference() {
        try (EmbeddingEngine engine = EmbeddingEngine.open(GpfmTinyFixture.config(2).build())) {
            float[][] out =
                    engine.embed(
                            List.of(
                                    GpfmTinyFixture.preprocessed(PREPROCESSED_03),
                                    GpfmTinyFixture.preprocessed(PREPROCESSED_08)));

            float diff03 = maxAbsDiff(out[0], GpfmTinyFixture.embedding(TILE_03));
            float diff08 = maxAbsDiff(out[1], GpfmTinyFixture.embedding(TILE_08));
            System.out.printf(
                    "parity (a) embedding max abs diff: tile_03 %.3g, tile_08 %.3g%n",
                    diff03, diff08);
            assertThat(diff03).isLessThanOrEqualTo(TOLERANCE);
            assertThat(diff08).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void derivesModelIdFromFileNameAndChecksumWithoutACard() {
        try (EmbeddingEngine engine = EmbeddingEngine.open(GpfmTinyFixture.config(1).build())) {
            // sha256 of gpfm-tiny.onnx as recorded in reference.json
            String sha =
                    GpfmTinyFixture.reference()
                            .get("models")
                            .get("gpfm-tiny.onnx")
                            .get("sha256")
                            .asText();
            assertThat(engine.sha256()).isEqualTo(sha);
            assertThat(engine.modelId()).isEqualTo("gpfm-tiny-" + sha.substring(0, 12));
            assertThat(engine.card()).isEmpty();
        }
    }

    @Test
    void takesModelNameFromTheCardBesideTheModel() throws Exception {
        Path model = Files.copy(GpfmTinyFixture.model(), tmp.resolve("exported.onnx"));
        String sha = ModelCard.sha256(model);
        Files.writeString(
                tmp.resolve("exported.card.json"),
                "{\"name\":\"gpfm\",\"architecture\":\"vit_large_patch14_dinov2\","
                        + "\"embedding_dim\":256,\"input_size\":224,"
                        + "\"normalization\":{\"mean\":[0.485,0.456,0.406],"
                        + "\"std\":[0.229,0.224,0.225]},"
                        + "\"tile\":{\"target_mpp\":0.5,\"tile_px\":256},"
                        + "\"onnx\":{\"file\":\"exported.onnx\",\"sha256\":\""
                        + sha
                        + "\"}}");
        try (EmbeddingEngine engine =
                EmbeddingEngine.open(
                        GpfmTinyFixture.config(1)
                                .set(InferenceOptions.MODEL_PATH, model)
                                .build())) {
            assertThat(engine.modelId()).isEqualTo("gpfm-" + sha.substring(0, 12));
            ModelCard card = engine.card().orElseThrow();
            assertThat(card.tile.targetMpp).isEqualTo(0.5);
            assertThat(card.tile.tilePx).isEqualTo(256);
            assertThat(card.normalization.std).containsExactly(0.229f, 0.224f, 0.225f);
        }
    }

    @Test
    void refusesACardThatDescribesAnotherFile() throws Exception {
        Path model = Files.copy(GpfmTinyFixture.model(), tmp.resolve("stale.onnx"));
        Files.writeString(
                tmp.resolve("stale.card.json"),
                "{\"name\":\"gpfm\",\"onnx\":{\"sha256\":\"" + "0".repeat(64) + "\"}}");
        assertThatThrownBy(
                        () ->
                                EmbeddingEngine.open(
                                        GpfmTinyFixture.config(1)
                                                .set(InferenceOptions.MODEL_PATH, model)
                                                .build()))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID);
                            assertThat(e.getMessage()).contains("stale card", "sha256");
                        });
    }

    @Test
    void refusesAModelThatDoesNotTakeNchwTiles() {
        assertThatThrownBy(
                        () ->
                                EmbeddingEngine.open(
                                        GpfmTinyFixture.config(1)
                                                .set(
                                                        InferenceOptions.MODEL_PATH,
                                                        GpfmTinyFixture.abmil())
                                                .build()))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID);
                            assertThat(e.getMessage())
                                    .contains("expected one input [N, C, H, W]")
                                    .contains("output [N, D]")
                                    .contains("found input features [tiles, 256] float32");
                        });
    }

    @Test
    void refusesAMissingModelFile() {
        Path missing = tmp.resolve("nope.onnx");
        assertThatThrownBy(
                        () ->
                                EmbeddingEngine.open(
                                        GpfmTinyFixture.config(1)
                                                .set(InferenceOptions.MODEL_PATH, missing)
                                                .build()))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID);
                            assertThat(e.getMessage())
                                    .contains(
                                            missing.toString(),
                                            "does not exist",
                                            "inference.model-path");
                        });
    }

    @Test
    void refusesACorruptModelFile() throws Exception {
        Path corrupt = tmp.resolve("corrupt.onnx");
        byte[] head = new byte[4096];
        System.arraycopy(Files.readAllBytes(GpfmTinyFixture.model()), 0, head, 0, head.length);
        Files.write(corrupt, head);
        assertThatThrownBy(
                        () ->
                                EmbeddingEngine.open(
                                        GpfmTinyFixture.config(1)
                                                .set(InferenceOptions.MODEL_PATH, corrupt)
                                                .build()))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID);
                            assertThat(e.getMessage()).contains("cannot load", corrupt.toString());
                        });
    }

    @Test
    void convertsFloat16InputAndOutputAtTheEdge() throws Exception {
        Path model = OnnxTestModels.fp16ChannelMean(tmp.resolve("fp16-mean.onnx"), 8);
        try (EmbeddingEngine engine =
                EmbeddingEngine.open(
                        GpfmTinyFixture.config(2)
                                .set(InferenceOptions.MODEL_PATH, model)
                                .build())) {
            assertThat(engine.model().isFp16Input()).isTrue();
            assertThat(engine.dimension()).isEqualTo(3);
            float[] a = new float[3 * 8 * 8];
            float[] b = new float[3 * 8 * 8];
            for (int i = 0; i < a.length; i++) {
                int channel = i / 64;
                a[i] = channel + 0.25f * (i % 2);
                b[i] = -0.5f * channel;
            }
            float[][] out = engine.embed(List.of(a, b));
            assertThat(out[0]).containsExactly(new float[] {0.125f, 1.125f, 2.125f}, within());
            assertThat(out[1]).containsExactly(new float[] {0f, -0.5f, -1f}, within());
        }
    }

    @Test
    void takesFloat16TensorsMadeByTheCallerAsTheyAre() throws Exception {
        Path model = OnnxTestModels.fp16ChannelMean(tmp.resolve("fp16-mean.onnx"), 8);
        try (EmbeddingEngine engine =
                EmbeddingEngine.open(
                        GpfmTinyFixture.config(3)
                                .set(InferenceOptions.MODEL_PATH, model)
                                .build())) {
            assertThat(engine.takesHalves()).isTrue();
            java.util.Random random = new java.util.Random(7);
            List<float[]> floats = new java.util.ArrayList<>();
            List<TileTensor> halves = new java.util.ArrayList<>();
            for (int t = 0; t < 3; t++) {
                float[] values = new float[3 * 8 * 8];
                short[] bits = new short[values.length];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                    bits[i] = ai.onnxruntime.platform.Fp16Conversions.floatToFp16(values[i]);
                }
                floats.add(values);
                halves.add(TileTensor.ofHalves(bits));
            }
            float[][] converted = engine.embed(floats);
            float[][] given = engine.embedTensors(halves);
            // One batch mixing both kinds, in both orders.
            float[][] mixed =
                    engine.embedTensors(
                            List.of(halves.get(0), TileTensor.of(floats.get(1)), halves.get(2)));

            for (int t = 0; t < 3; t++) {
                assertThat(given[t]).as("tile %d", t).containsExactly(converted[t]);
                assertThat(mixed[t]).as("tile %d, mixed batch", t).containsExactly(converted[t]);
            }
        }
    }

    @Test
    void widensFloat16TensorsForAFloat32Model() {
        try (EmbeddingEngine engine = EmbeddingEngine.open(GpfmTinyFixture.config(1).build())) {
            assertThat(engine.takesHalves()).isFalse();
            float[] values = new float[engine.tileValues()];
            short[] bits = new short[values.length];
            for (int i = 0; i < values.length; i++) {
                bits[i] = ai.onnxruntime.platform.Fp16Conversions.floatToFp16((i % 17) / 8f - 1f);
                values[i] = ai.onnxruntime.platform.Fp16Conversions.fp16ToFloat(bits[i]);
            }
            assertThat(engine.embedTensors(List.of(TileTensor.ofHalves(bits)))[0])
                    .containsExactly(engine.embed(List.of(values))[0]);
        }
    }

    private static org.assertj.core.data.Offset<Float> within() {
        return org.assertj.core.data.Offset.offset(1e-3f);
    }

    @Test
    void explainsWhatAGpuProviderNeedsOnTheCpuBuild() {
        for (ExecutionProvider gpu : List.of(ExecutionProvider.CUDA, ExecutionProvider.TENSORRT)) {
            assertThatThrownBy(
                            () ->
                                    EmbeddingEngine.open(
                                            GpfmTinyFixture.config(1)
                                                    .set(InferenceOptions.PROVIDER, gpu.key())
                                                    .set(InferenceOptions.DEVICE_ID, 0)
                                                    .build()))
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                                assertThat(e.getMessage())
                                        .contains(
                                                "inference.provider=" + gpu.key(),
                                                "Maven profile gpu",
                                                "onnxruntime_gpu",
                                                "CUDA 12",
                                                "cuDNN 9",
                                                "inference.provider=cpu");
                            });
        }
    }

    @Test
    void runsOnTheCpuProviderWithConfiguredThreads() {
        InferenceConfig config =
                GpfmTinyFixture.config(1).set(InferenceOptions.INTRA_OP_THREADS, 1).build();
        try (EmbeddingEngine engine = EmbeddingEngine.open(config)) {
            assertThat(engine.model().provider()).isEqualTo(ExecutionProvider.CPU);
            float[][] out = engine.embed(List.of(GpfmTinyFixture.preprocessed(PREPROCESSED_03)));
            assertThat(maxAbsDiff(out[0], GpfmTinyFixture.embedding(TILE_03)))
                    .isLessThanOrEqualTo(TOLERANCE);
        }
    }
}
