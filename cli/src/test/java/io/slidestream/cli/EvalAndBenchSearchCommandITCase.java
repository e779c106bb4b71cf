package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slidestream.testing.TestSlides;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval retrieval} and {@code bench search}, the latter against a Milvus Lite it starts. */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class EvalAndBenchSearchCommandITCase {

    @TempDir Path dir;

    @Test
    void evalRetrievalFindsEveryTestTileWhoseTwinIsInTrain() throws Exception {
        // Three classes of textured tiles; each test tile is a copy of a train tile of its class,
        // so its nearest train tile is itself (distance 0) and the rank-weighted vote is right.
        Random random = new Random(5);
        Color[] colours = {
            new Color(200, 80, 160), new Color(90, 60, 180), new Color(230, 190, 210)
        };
        for (int c = 0; c < colours.length; c++) {
            for (int i = 0; i < 4; i++) {
                BufferedImage tile = texture(colours[c], random);
                write(tile, dir.resolve("train/class" + c + "/t" + i + ".png"));
                if (i < 2) {
                    write(tile, dir.resolve("test/class" + c + "/q" + i + ".png"));
                }
            }
        }
        Path summary = dir.resolve("eval.json");
        CliRun run =
                CliRun.of(
                        "eval",
                        "retrieval",
                        dir.toString(),
                        "--model",
                        TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx").toString(),
                        "--bootstraps",
                        "200",
                        "--summary-json",
                        summary.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("3 classes [class0, class1, class2], 12 train and 6 test");
        JsonNode json = new ObjectMapper().readTree(summary.toFile());
        assertThat(json.path("macro_accuracy").get(0).path("top").asInt()).isEqualTo(1);
        assertThat(json.path("macro_accuracy").get(0).path("value").asDouble()).isEqualTo(1.0);
        assertThat(json.path("macro_accuracy").get(2).path("top").asInt()).isEqualTo(5);
    }

    @Test
    void evalRetrievalRefusesAFolderWithoutClasses() throws Exception {
        Files.createDirectories(dir.resolve("train/only"));
        CliRun run =
                CliRun.of(
                        "eval",
                        "retrieval",
                        dir.toString(),
                        "--model",
                        TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx").toString());
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).contains("INVALID_REQUEST").contains("needs two");
    }

    @Test
    void benchSearchWithAnExactIndexAgreesWithBruteForce() throws Exception {
        Path summary = dir.resolve("search.json");
        CliRun run =
                CliRun.of(
                        "bench",
                        "search",
                        "--vectors",
                        "3000",
                        "--dim",
                        "32",
                        "--clusters",
                        "50",
                        "--queries",
                        "30",
                        "-D",
                        "milvus.index-type=FLAT",
                        "--work-dir",
                        dir.resolve("milvus").toString(),
                        "--summary-json",
                        summary.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("recall@10 1.0000");
        JsonNode figures = new ObjectMapper().readTree(summary.toFile()).get(0);
        assertThat(figures.path("vectors").asInt()).isEqualTo(3000);
        assertThat(figures.path("recall").asDouble()).isEqualTo(1.0);
        assertThat(figures.path("plainP99Millis").asDouble())
                .isGreaterThanOrEqualTo(figures.path("plainP50Millis").asDouble());
    }

    private static BufferedImage texture(Color base, Random random) {
        BufferedImage image = new BufferedImage(96, 96, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(base);
        g.fillRect(0, 0, 96, 96);
        for (int i = 0; i < 40; i++) {
            g.setColor(base.darker());
            g.fillOval(random.nextInt(90), random.nextInt(90), 6, 6);
        }
        g.dispose();
        return image;
    }

    private static void write(BufferedImage image, Path file) throws Exception {
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }
}
