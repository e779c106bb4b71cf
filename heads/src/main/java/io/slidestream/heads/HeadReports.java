package io.slidestream.heads;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.inference.HeadCard;
import java.io.PrintWriter;
import java.util.Locale;

/** What the {@code heads} commands print: a trained head's cross-validation, and predictions. */
public final class HeadReports {
    private HeadReports() {}

    /** The trained head, its cross-validated metrics and the ONNX Runtime parity. */
    public static void trained(HeadTrainer.Result result, PrintWriter out) {
        HeadCard card = result.card();
        JsonNode m = card.metrics();
        out.printf(
                Locale.ROOT,
                "Head %s: %d slides, classes %s, model %s (D=%d)%n",
                card.headId(),
                card.slides(),
                card.classes(),
                card.modelId(),
                card.dimension());
        out.printf(
                Locale.ROOT,
                "%d-fold cross-validation: balanced accuracy %.3f %s, AUROC %s %s%n",
                m.path("folds").asInt(),
                m.path("balanced_accuracy").asDouble(),
                interval(m.path("balanced_accuracy_95ci")),
                m.path("auroc").isNumber()
                        ? String.format(Locale.ROOT, "%.3f", m.path("auroc").asDouble())
                        : "n/a",
                interval(m.path("auroc_95ci")));
        out.println(
                "Confusion matrix (rows: true, columns: predicted): " + m.path("confusion_matrix"));
        out.printf(
                Locale.ROOT,
                "ONNX Runtime vs PyTorch on every bag: max |diff| %.2e; trained in %.1f s%n",
                result.parityMaxAbs(),
                result.took().toMillis() / 1000.0);
        out.println("Wrote " + result.dir().resolve(HeadCard.MODEL_FILE) + " and " + HeadCard.FILE);
    }

    private static String interval(JsonNode ci) {
        return ci.isArray() && ci.size() == 2
                ? String.format(
                        Locale.ROOT,
                        "(95%% CI %.3f-%.3f)",
                        ci.get(0).asDouble(),
                        ci.get(1).asDouble())
                : "(95% CI n/a)";
    }

    /** The slide, label, probability, top tile table of predict and rescore, and its rate. */
    public static final class Table {
        private final PrintWriter out;
        private final long started = System.nanoTime();

        public Table(PrintWriter out) {
            this.out = out;
            out.printf("%-36s %-24s %11s  %s%n", "slide", "label", "probability", "top tile");
        }

        public void row(HeadScorer.Prediction p) {
            out.printf(
                    Locale.ROOT,
                    "%-36s %-24s %11.3f  (%d, %d)%n",
                    p.slideId(),
                    p.predictedLabel(),
                    p.probabilities()[p.predictedClass()],
                    p.topX(),
                    p.topY());
        }

        public void finish(int slides) {
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(
                    Locale.ROOT,
                    "%d slides in %.2f s (%.1f slides/s)%n",
                    slides,
                    seconds,
                    slides / Math.max(seconds, 1e-9));
        }
    }
}
