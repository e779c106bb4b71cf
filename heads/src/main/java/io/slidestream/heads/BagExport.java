package io.slidestream.heads;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.schemas.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code bags export}: the stored bags of one model, one TRIDENT {@code .h5} per slide in a folder.
 * Every slide asked for is checked against the store before the first file is written.
 */
public final class BagExport {

    /** What was written: the model, and one file per slide in slide id order. */
    public record Result(String modelId, int dimension, List<Path> files, long tiles) {}

    private BagExport() {}

    /**
     * The latest scans of model {@code modelId} (null: the store's only model) for {@code slideIds}
     * (null or empty: every slide of that model).
     */
    public static List<StoredSlide> select(
            StoredBags store, String modelId, Collection<String> slideIds) {
        Map<String, Map<String, StoredSlide>> byModel = store.slides();
        String model = StoredBags.chooseModel(byModel, modelId, store.where());
        Map<String, StoredSlide> slides = byModel.get(model);
        if (slideIds == null || slideIds.isEmpty()) {
            return List.copyOf(slides.values());
        }
        List<String> missing = new ArrayList<>();
        List<StoredSlide> chosen = new ArrayList<>();
        for (String id : slideIds) {
            StoredSlide s = slides.get(id);
            if (s == null) {
                missing.add(id);
            } else {
                chosen.add(s);
            }
        }
        if (!missing.isEmpty()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    missing.size()
                            + " slide(s) have no embeddings of model "
                            + model
                            + " in "
                            + store.where()
                            + ": "
                            + String.join(", ", missing)
                            + " (the store has "
                            + slides.size()
                            + " slides of that model)");
        }
        return chosen;
    }

    /** Writes the bags of {@code slides} into {@code out} (created when missing). */
    public static Result write(
            StoredBags store, List<StoredSlide> slides, Path out, Consumer<FeatureBag> progress) {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create " + out, e);
        }
        List<Path> files = new ArrayList<>(slides.size());
        long tiles = 0;
        int dimension = -1;
        String model = slides.isEmpty() ? null : slides.get(0).modelId();
        for (StoredSlide slide : slides) {
            FeatureBag bag = store.load(slide);
            Path file = out.resolve(TridentH5.fileName(bag.slideId()));
            TridentH5.write(bag, file);
            files.add(file);
            tiles += bag.tiles();
            dimension = bag.dimension();
            progress.accept(bag);
        }
        return new Result(model, dimension, List.copyOf(files), tiles);
    }
}
