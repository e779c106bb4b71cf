package io.slidestream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.schemas.avro.SlideScanned;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SlideScannedRulesTest {

    static SlideScanned event(String slideId, String uri) {
        SlideScanned e = AvroCodecTest.scanned();
        e.setSlideId(slideId);
        e.setUri(uri);
        return e;
    }

    @Test
    void keepsSlideIdsThatLookLikePathsAsOpaqueLabels() throws Exception {
        for (String id : java.util.List.of("../../etc", "/etc/passwd", "a\\..\\b", "x\"y")) {
            assertThat(SlideScannedRules.check(event(id, "/data/a.svs")).getSlideId())
                    .isEqualTo(id);
        }
    }

    @Test
    void acceptsAbsolutePathsAndFileUris() throws Exception {
        assertThat(SlideScannedRules.check(event("s1", "/data/a b.svs"))).isNotNull();
        assertThat(SlideScannedRules.toPath("file:///data/a%20b.svs", "s1"))
                .isEqualTo(Path.of("/data/a b.svs"));
        assertThat(SlideScannedRules.toPath("file://localhost/data/a.svs", "s1"))
                .isEqualTo(Path.of("/data/a.svs"));
    }

    @Test
    void rejectsRelativePathsOtherSchemesAndRemoteHosts() {
        assertThatThrownBy(() -> SlideScannedRules.check(event("s1", "data/a.svs")))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("relative path");
        assertThatThrownBy(() -> SlideScannedRules.check(event("s1", "s3://bucket/a.svs")))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("unsupported scheme");
        assertThatThrownBy(() -> SlideScannedRules.check(event("s1", "file://scanner7/a.svs")))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("names host scanner7");
        assertThatThrownBy(() -> SlideScannedRules.check(event("s1", "file:///a%zz.svs")))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("not a valid path or file: URI");
        assertThatThrownBy(() -> SlideScannedRules.check(event("s1", " ")))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("uri is empty");
    }

    @Test
    void rejectsEmptyPaddedOrOverlongSlideIds() {
        assertThatThrownBy(() -> SlideScannedRules.check(event("", "/a.svs")))
                .hasMessageContaining("slide_id is empty");
        assertThatThrownBy(() -> SlideScannedRules.check(event(" s1", "/a.svs")))
                .hasMessageContaining("leading/trailing whitespace");
        assertThatThrownBy(() -> SlideScannedRules.check(event("s\u00011", "/a.svs")))
                .hasMessageContaining("s\\u00011");
        assertThatThrownBy(() -> SlideScannedRules.check(event("x".repeat(257), "/a.svs")))
                .hasMessageContaining("at most 256");
    }
}
