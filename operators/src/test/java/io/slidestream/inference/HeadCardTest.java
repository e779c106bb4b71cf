package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadCardTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    @Test
    void aHeadWithoutCardIsNamedByFileAndChecksumWithNumberedClasses() {
        Path abmil = GpfmTinyFixture.abmil();
        String sha = ModelCard.cachedSha256(abmil).substring(0, 12);
        HeadCard.Identity id = HeadCard.identify(abmil, 2);
        assertThat(id.headId()).isEqualTo("abmil-tiny-" + sha);
        assertThat(id.classes()).containsExactly("class 0", "class 1");
    }

    @Test
    void aHeadWithItsCardIsNamedByTheCard() throws Exception {
        Path onnx = Files.copy(GpfmTinyFixture.abmil(), dir.resolve(HeadCard.MODEL_FILE));
        String sha = ModelCard.cachedSha256(onnx).substring(0, 12);
        card("lesion-" + sha, List.of("benign", "tumour")).write(dir);
        HeadCard.Identity id = HeadCard.identify(onnx, 2);
        assertThat(id.headId()).isEqualTo("lesion-" + sha);
        assertThat(id.classes()).containsExactly("benign", "tumour");
        try (OnnxSlideHead head =
                OnnxSlideHead.open(
                        onnx,
                        InferenceConfig.builder().set(InferenceOptions.MODEL_PATH, onnx).build())) {
            assertThat(head.headId()).isEqualTo("lesion-" + sha);
            assertThat(head.classNames()).containsExactly("benign", "tumour");
        }
    }

    @Test
    void aCardOfAnotherFileOrClassCountIsRefused() throws Exception {
        Path onnx = Files.copy(GpfmTinyFixture.abmil(), dir.resolve(HeadCard.MODEL_FILE));
        card("lesion-000000000000", List.of("benign", "tumour")).write(dir);
        assertThatThrownBy(() -> HeadCard.identify(onnx, 2))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.MODEL_INVALID))
                .hasMessageContaining("does not describe")
                .hasMessageContaining("copy head.onnx and head.json together");
        String sha = ModelCard.cachedSha256(onnx).substring(0, 12);
        card("lesion-" + sha, List.of("a", "b", "c")).write(dir);
        assertThatThrownBy(() -> HeadCard.identify(onnx, 2)).hasMessageContaining("3 classes");
    }

    private static HeadCard card(String id, List<String> classes) {
        return new HeadCard(
                id,
                "lesion",
                classes,
                "gpfm-tiny-x",
                256,
                8,
                0,
                JSON.createObjectNode(),
                JSON.createObjectNode());
    }
}
