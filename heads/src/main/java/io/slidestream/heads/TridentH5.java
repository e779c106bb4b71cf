package io.slidestream.heads;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableDataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a {@link FeatureBag} as TRIDENT writes a slide's features, so the field's tools (TRIDENT,
 * CLAM, their ABMIL trainers) read SlideStream's bags unchanged: dataset {@code features} (float32,
 * N x D) with attribute {@code encoder} (the model_id), dataset {@code coords} (int64, N x 2,
 * level-0 x, y) with attributes {@code patch_size}, {@code patch_size_level0}, {@code
 * level0_magnification}, {@code target_magnification} and {@code name} (the slide id). Written with
 * jHDF (pure Java) into a temporary file beside the target and moved into place, so a reader never
 * sees half a bag.
 */
public final class TridentH5 {

    /**
     * The file name of {@code slideId}'s bag: the id itself when it is a plain file name (letters,
     * digits, {@code . _ -}, not starting with a dot), else with every other byte of its UTF-8 as
     * {@code %XX}, so ids with slashes or spaces still give one file each. The id itself is the
     * {@code name} attribute.
     */
    public static String fileName(String slideId) {
        StringBuilder name = new StringBuilder();
        for (byte b : slideId.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            boolean plain =
                    (c >= 'a' && c <= 'z')
                            || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9')
                            || c == '_'
                            || c == '-'
                            || (c == '.' && name.length() > 0);
            if (plain) {
                name.append(c);
            } else {
                name.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return name + ".h5";
    }

    private TridentH5() {}

    /** Writes {@code bag} to {@code file}, replacing it. */
    public static void write(FeatureBag bag, Path file) {
        int n = bag.tiles();
        int d = bag.dimension();
        float[][] features = new float[n][d];
        long[][] coords = new long[n][2];
        for (int i = 0; i < n; i++) {
            System.arraycopy(bag.features(), i * d, features[i], 0, d);
            coords[i][0] = bag.coords()[2 * i];
            coords[i][1] = bag.coords()[2 * i + 1];
        }
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            try (WritableHdfFile hdf = HdfFile.write(tmp)) {
                WritableDataset f = hdf.putDataset("features", features);
                f.putAttribute("encoder", bag.modelId());
                WritableDataset c = hdf.putDataset("coords", coords);
                c.putAttribute("patch_size", (long) bag.tilePx());
                c.putAttribute("patch_size_level0", bag.extentPx());
                c.putAttribute("level0_magnification", bag.level0Magnification());
                c.putAttribute("target_magnification", bag.targetMagnification());
                c.putAttribute("name", bag.slideId());
            }
            Files.move(
                    tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // The move failed first; that error is the one to report.
            }
        }
    }

    /** The {@code features} dataset of a bag file, N rows of D values. */
    public static float[][] readFeatures(Path file) {
        try (HdfFile hdf = new HdfFile(file)) {
            return (float[][]) hdf.getDatasetByPath("features").getData();
        }
    }
}
