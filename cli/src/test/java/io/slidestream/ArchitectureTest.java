package io.slidestream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the module layering: {@code schemas} knows nothing of Flink's runtime, {@code operators}
 * knows nothing of the job wiring, configuration loading or the command line, and the cluster job
 * ({@code jobs}) knows nothing of the command line and the embedded local stack ({@code cli}).
 */
class ArchitectureTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.slidestream");
    }

    @Test
    void schemasAreFreeOfFlinkRuntimeClasses() {
        noClasses()
                .that()
                .resideInAPackage("io.slidestream.schemas..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.apache.flink.runtime..",
                        "org.apache.flink.streaming..",
                        "org.apache.flink.api.connector..")
                .check(classes);
    }

    @Test
    void operatorsDoNotDependOnJobsOrTheCommandLine() {
        noClasses()
                .that()
                .resideInAnyPackage(
                        "io.slidestream.slide..",
                        "io.slidestream.tiling..",
                        "io.slidestream.preprocess..",
                        "io.slidestream.inference..",
                        "io.slidestream.aggregate..",
                        "io.slidestream.sink..",
                        "io.slidestream.source..",
                        "io.slidestream.errors..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.slidestream.cli..", "io.slidestream.job..", "io.slidestream.local..")
                .check(classes);
    }

    @Test
    void theClusterJobDoesNotDependOnTheCommandLineOrTheLocalStack() {
        // The job module is what goes into the deployable job jar; cli and local stay out of it.
        noClasses()
                .that()
                .resideInAnyPackage("io.slidestream.job..", "io.slidestream.config..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.slidestream.cli..", "io.slidestream.local..")
                .check(classes);
    }

    @Test
    void schemasDoNotDependOnOperators() {
        noClasses()
                .that()
                .resideInAPackage("io.slidestream.schemas..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.slidestream.slide..",
                        "io.slidestream.tiling..",
                        "io.slidestream.inference..",
                        "io.slidestream.aggregate..",
                        "io.slidestream.sink..",
                        "io.slidestream.cli..",
                        "io.slidestream.job..")
                .check(classes);
    }
}
