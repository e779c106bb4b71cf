package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the retrieval service answers and records, as the serve tests check it. */
final class ApiAnswers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiAnswers() {}

    /** {@code response} is a JSON error with {@code status} and error code {@code code}. */
    static void assertError(HttpResponse<String> response, int status, String code)
            throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/json");
        assertThat(JSON.readTree(response.body()).path("error").path("code").asText())
                .isEqualTo(code);
    }

    /** The lines of the audit log {@code file}, parsed. */
    static List<JsonNode> auditLines(Path file) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    /**
     * Waits (30 s at most) until the audit log {@code file} has a line of {@code user} on {@code
     * route}.
     */
    static void awaitAudited(Path file, String user, String route) {
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .untilAsserted(
                        () ->
                                assertThat(auditLines(file))
                                        .anySatisfy(
                                                l -> {
                                                    assertThat(l.path("user").asText())
                                                            .isEqualTo(user);
                                                    assertThat(l.path("route").asText())
                                                            .isEqualTo(route);
                                                }));
    }
}
