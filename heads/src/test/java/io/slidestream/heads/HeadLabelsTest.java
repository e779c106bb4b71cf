package io.slidestream.heads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadLabelsTest {

    @TempDir Path dir;

    private Path csv(String text) throws Exception {
        return Files.writeString(dir.resolve("labels.csv"), text);
    }

    @Test
    void readsQuotedLabelsExtraColumnsAndRepeatedRows() throws Exception {
        HeadLabels labels =
                HeadLabels.read(
                        csv(
                                "case_id,slide_id,label\n"
                                        + "c1,s1,\"carcinoma, focal\"\n"
                                        + "c1,s2,benign\n\n"
                                        + "c2,s1,\"carcinoma, focal\"\n"));
        assertThat(labels.bySlide()).containsOnlyKeys("s1", "s2");
        assertThat(labels.classes()).containsExactly("benign", "carcinoma, focal");
        assertThat(labels.counts()).containsEntry("benign", 1).containsEntry("carcinoma, focal", 1);
    }

    @Test
    void saysWhatIsWrongWithABadFile() throws Exception {
        assertThatThrownBy(() -> HeadLabels.read(dir.resolve("missing.csv")))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("it does not exist");
        assertThatThrownBy(() -> HeadLabels.read(csv("id,class\ns1,a\n")))
                .hasMessageContaining("must name the columns slide_id and label (found: id,class)");
        assertThatThrownBy(() -> HeadLabels.read(csv("slide_id,label\ns1,\n,b\n")))
                .hasMessageContaining("row 2 has an empty slide_id or label")
                .hasMessageContaining("row 3 has an empty");
        assertThatThrownBy(() -> HeadLabels.read(csv("slide_id,label\ns1,a\ns1,b\n")))
                .hasMessageContaining("slide 's1' is labelled both 'a' and 'b'");
        assertThatThrownBy(() -> HeadLabels.read(csv("slide_id,label\n")))
                .hasMessageContaining("it has a header but no slides");
    }
}
