package io.slidestream.heads;

import static org.assertj.core.api.Assertions.assertThat;

import io.jhdf.HdfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TridentH5Test {

    @TempDir Path dir;

    @Test
    void writesTridentsDatasetsAndAttributesAndReplacesAtomically() throws Exception {
        FeatureBag bag =
                new FeatureBag(
                        "slide-1",
                        "gpfm-abc",
                        "/slides/slide-1.svs",
                        Instant.parse("2026-12-01T10:00:00Z"),
                        3,
                        new float[] {1, 2, 3, 4, 5, 6},
                        new long[] {0, 0, 512, 1024},
                        new int[] {0, 3},
                        4,
                        256,
                        512,
                        0.5);
        Path file = dir.resolve(TridentH5.fileName(bag.slideId()));
        Files.writeString(file, "an older, broken bag");
        TridentH5.write(bag, file);

        assertThat(TridentH5.readFeatures(file)).isEqualTo(new float[][] {{1, 2, 3}, {4, 5, 6}});
        try (HdfFile hdf = new HdfFile(file)) {
            assertThat((long[][]) hdf.getDatasetByPath("coords").getData())
                    .isEqualTo(new long[][] {{0, 0}, {512, 1024}});
            var coords = hdf.getDatasetByPath("coords").getAttributes();
            assertThat(coords.get("patch_size").getData()).isEqualTo(256L);
            assertThat(coords.get("patch_size_level0").getData()).isEqualTo(512L);
            assertThat(coords.get("level0_magnification").getData()).isEqualTo(40L);
            assertThat(coords.get("target_magnification").getData()).isEqualTo(20L);
            assertThat(coords.get("name").getData()).isEqualTo("slide-1");
            assertThat(hdf.getDatasetByPath("features").getAttribute("encoder").getData())
                    .isEqualTo("gpfm-abc");
        }
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("slide-1.h5");
        }
    }

    @Test
    void slideIdsThatAreNoPlainFileNameAreEscaped() {
        assertThat(TridentH5.fileName("CMU-1_small.v2")).isEqualTo("CMU-1_small.v2.h5");
        assertThat(TridentH5.fileName("../etc/passwd")).isEqualTo("%2E.%2Fetc%2Fpasswd.h5");
        assertThat(TridentH5.fileName("case 7/ä")).isEqualTo("case%207%2F%C3%A4.h5");
        assertThat(TridentH5.fileName("a%2Fb")).isNotEqualTo(TridentH5.fileName("a/b"));
    }
}
