package io.slidestream.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Keeps docs/configuration.md true: it must list exactly the options the code has. */
class ConfigurationDocsTest {

    @Test
    void configurationDocListsEveryOptionAsTheCodeDefinesIt() throws Exception {
        Path doc = Path.of(System.getProperty("user.dir")).resolve("../docs/configuration.md");
        String text = Files.readString(doc);
        assertThat(text)
                .as(
                        "docs/configuration.md is stale: regenerate the table with"
                                + " `bin/slidestream config` and paste it in")
                .contains(ConfigKeys.markdownTable());
    }
}
