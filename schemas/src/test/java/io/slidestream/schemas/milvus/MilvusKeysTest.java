package io.slidestream.schemas.milvus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MilvusKeysTest {

    private static final String SLIDE = "CMU-1-Small-Region";
    private static final String MODEL = "gpfm-tiny@1234abcd";

    @Test
    void tileKeyMatchesTheDocumentedRecipe() {
        // Computed independently with Python: sha256 of the documented key text, first 8 bytes
        // big-endian, sign bit cleared. A change here breaks idempotent replays into old data.
        assertThat(MilvusKeys.tileKey(SLIDE, MODEL, 0, 512, 768)).isEqualTo(1784028885889529118L);
        assertThat(MilvusKeys.slideKey(SLIDE, MODEL)).isEqualTo(4828032808728584606L);
    }

    @Test
    void keysAreDistinctAndPositiveForEveryTileOfAGrid() {
        Set<Long> keys = new HashSet<>();
        for (int level = 0; level < 3; level++) {
            for (long x = 0; x < 100 * 256; x += 256) {
                for (long y = 0; y < 100 * 256; y += 256) {
                    long key = MilvusKeys.tileKey(SLIDE, MODEL, level, x, y);
                    assertThat(key).isNotNegative();
                    keys.add(key);
                }
            }
        }
        assertThat(keys).hasSize(3 * 100 * 100);
    }

    @Test
    void keysDifferBySlideAndModel() {
        long base = MilvusKeys.tileKey(SLIDE, MODEL, 0, 0, 0);
        assertThat(MilvusKeys.tileKey(SLIDE + "x", MODEL, 0, 0, 0)).isNotEqualTo(base);
        assertThat(MilvusKeys.tileKey(SLIDE, "other-model", 0, 0, 0)).isNotEqualTo(base);
        assertThat(MilvusKeys.slideKey(SLIDE, MODEL))
                .isNotEqualTo(MilvusKeys.slideKey(SLIDE, "other-model"));
    }

    @Test
    void lengthPrefixesKeepShiftedIdsApart() {
        // Without length prefixes "a|b" + "c" and "a" + "b|c" would hash the same text.
        assertThat(MilvusKeys.slideKey("a|b", "c")).isNotEqualTo(MilvusKeys.slideKey("a", "b|c"));
        assertThat(MilvusKeys.tileKey("s|1", "m", 0, 0, 0))
                .isNotEqualTo(MilvusKeys.tileKey("s", "1|m", 0, 0, 0));
    }

    @Test
    void sameInputGivesSameKeyEveryTime() {
        assertThat(MilvusKeys.tileKey(SLIDE, MODEL, 1, 2048, 4096))
                .isEqualTo(MilvusKeys.tileKey(new String(SLIDE), new String(MODEL), 1, 2048, 4096));
    }
}
