package io.slidestream.slide;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Tells a truncated TIFF-based slide from a file that is simply not a slide. OpenSlide answers both
 * with "not recognised" (libtiff cannot read a directory past the end of the file), but they need
 * different codes: a truncated copy is {@code CORRUPT_SLIDE}, a text file {@code
 * UNSUPPORTED_FORMAT}.
 *
 * <p>Walks the classic or BigTIFF directory chain ({@link TiffDirectories}) and checks that every
 * directory and every strip or tile lies inside the file. It is only consulted after OpenSlide has
 * refused a file, so NDPI's non-standard offsets above 4 GiB never reach it for a good file.
 */
final class TiffIntegrity {

    private TiffIntegrity() {}

    /**
     * A description of where the TIFF structure runs past the end of the file, or {@code null} when
     * the file is no TIFF or its structure is complete.
     */
    static String findTruncation(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            List<TiffDirectories.Directory> directories;
            try {
                directories = TiffDirectories.read(ch);
            } catch (TiffDirectories.TruncatedException e) {
                return e.getMessage();
            }
            if (directories == null) {
                return null;
            }
            long size = ch.size();
            for (TiffDirectories.Directory dir : directories) {
                long[] offsets = dir.dataOffsets();
                long[] counts = dir.dataByteCounts();
                long end = 0;
                for (int i = 0; i < Math.min(offsets.length, counts.length); i++) {
                    end = Math.max(end, offsets[i] + counts[i]);
                }
                if (end > size) {
                    return String.format(
                            "the image data of directory %d runs to byte %d but the file has"
                                    + " only %d bytes",
                            dir.index(), end, size);
                }
            }
            return null;
        }
    }
}
