package io.slidestream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the module layering, one layer per module: {@code schemas} → {@code operators} (what runs
 * in the job) → {@code jobs} (the job's wiring and configuration) → {@code local} (embedded stack,
 * demo, cluster harness), {@code serve} (the retrieval service), {@code heads} (bags and head
 * training, on operators only) → {@code bench} → {@code cli} (the commands). {@code test-support}
 * (synthetic slides) stands alone and only the tests, {@code local}, {@code bench} and {@code cli}
 * use it. Every class of SlideStream belongs to a layer, so a new package must be placed here
 * first. {@code schemas} also stays free of Flink's runtime.
 */
class ArchitectureTest {

    private static final String[] SCHEMAS = {"io.slidestream.schemas.."};
    private static final String[] TEST_SUPPORT = {"io.slidestream.synthetic.."};
    private static final String[] OPERATORS = {
        "io.slidestream.slide..",
        "io.slidestream.tiling..",
        "io.slidestream.preprocess..",
        "io.slidestream.inference..",
        "io.slidestream.aggregate..",
        "io.slidestream.sink..",
        "io.slidestream.source..",
        "io.slidestream.errors..",
        "io.slidestream.settings..",
        "io.slidestream.runtime..",
        "io.slidestream.types.."
    };
    private static final String[] JOBS = {"io.slidestream.job..", "io.slidestream.config.."};
    private static final String[] LOCAL = {"io.slidestream.local.."};
    private static final String[] SERVE = {"io.slidestream.serve.."};
    private static final String[] HEADS = {"io.slidestream.heads.."};
    private static final String[] BENCH = {"io.slidestream.bench.."};
    private static final String[] CLI = {"io.slidestream.cli.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        // The operators' test jar (fixtures, harnesses) is test code too.
                        .withImportOption(
                                location -> !location.asURI().toString().contains("-tests.jar"))
                        .importPackages("io.slidestream");
    }

    @Test
    void modulesDependOnlyDownwards() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("schemas")
                .definedBy(SCHEMAS)
                .layer("test-support")
                .definedBy(TEST_SUPPORT)
                .layer("operators")
                .definedBy(OPERATORS)
                .layer("jobs")
                .definedBy(JOBS)
                .layer("local")
                .definedBy(LOCAL)
                .layer("serve")
                .definedBy(SERVE)
                .layer("heads")
                .definedBy(HEADS)
                .layer("bench")
                .definedBy(BENCH)
                .layer("cli")
                .definedBy(CLI)
                .whereLayer("cli")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("bench")
                .mayOnlyBeAccessedByLayers("cli")
                .whereLayer("serve")
                .mayOnlyBeAccessedByLayers("cli")
                .whereLayer("heads")
                .mayOnlyBeAccessedByLayers("cli")
                .whereLayer("local")
                .mayOnlyBeAccessedByLayers("bench", "cli")
                .whereLayer("jobs")
                .mayOnlyBeAccessedByLayers("local", "serve", "bench", "cli")
                .whereLayer("operators")
                .mayOnlyBeAccessedByLayers("jobs", "local", "serve", "heads", "bench", "cli")
                .whereLayer("test-support")
                .mayOnlyBeAccessedByLayers("local", "bench", "cli")
                .whereLayer("schemas")
                .mayOnlyBeAccessedByLayers(
                        "operators", "jobs", "local", "serve", "heads", "bench", "cli")
                .check(classes);
    }

    @Test
    void everyClassBelongsToALayer() {
        classes()
                .should()
                .resideInAnyPackage(
                        Stream.of(
                                        SCHEMAS,
                                        TEST_SUPPORT,
                                        OPERATORS,
                                        JOBS,
                                        LOCAL,
                                        SERVE,
                                        HEADS,
                                        BENCH,
                                        CLI)
                                .flatMap(Arrays::stream)
                                .toArray(String[]::new))
                .check(classes);
    }

    @Test
    void schemasAreFreeOfFlinkRuntimeClasses() {
        noClasses()
                .that()
                .resideInAnyPackage(SCHEMAS)
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.apache.flink.runtime..",
                        "org.apache.flink.streaming..",
                        "org.apache.flink.api.connector..")
                .check(classes);
    }

    @Test
    void testSupportStandsAlone() {
        classes()
                .that()
                .resideInAnyPackage(TEST_SUPPORT)
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(
                        Stream.concat(Stream.of("java..", "javax.."), Arrays.stream(TEST_SUPPORT))
                                .toArray(String[]::new))
                .check(classes);
    }

    /**
     * The command line keeps the picocli commands and delegates; what they run lives in local,
     * bench, heads and serve. Its main sources stay within {@value #CLI_MAX_LINES} lines.
     */
    @Test
    void theCommandLineStaysACommandLine() throws IOException {
        Path main =
                Path.of(System.getProperty("slidestream.home", "..")).resolve("cli/src/main/java");
        long lines = 0;
        try (Stream<Path> files = Files.walk(main)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                lines += Files.readAllLines(file).size();
            }
        }
        assertThat(lines).as("lines in %s", main).isPositive().isLessThanOrEqualTo(CLI_MAX_LINES);
    }

    private static final int CLI_MAX_LINES = 4_000;
}
