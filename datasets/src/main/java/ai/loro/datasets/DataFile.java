package ai.loro.datasets;

import ai.loro.core.LoroException;
import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * A data set file's compression, from its name: {@code .gz} (gzip, as hh-rlhf and the oasst1 exports are
 * published) or {@code .zst} (Zstandard) after the format's own extension, or none. {@link #open} gives the
 * decompressed bytes, so line numbers in errors count lines of the decompressed text; a damaged stream throws
 * {@link Corrupt}, which names the codec.
 */
enum DataFile {
    NONE("", null), GZIP(".gz", "gzip"), ZSTD(".zst", "zstd");

    final String suffix;
    final String codec;

    DataFile(String suffix, String codec) {
        this.suffix = suffix;
        this.codec = codec;
    }

    /** The compression a (lower-case) file name ends with. */
    static DataFile of(String lowerName) {
        if (lowerName.endsWith(GZIP.suffix)) {
            return GZIP;
        }
        if (lowerName.endsWith(ZSTD.suffix) || lowerName.endsWith(".zstd")) {
            return ZSTD;
        }
        return NONE;
    }

    /** The name without this compression's suffix ({@code a.jsonl.gz -> a.jsonl}). */
    String inner(String lowerName) {
        if (this == NONE) {
            return lowerName;
        }
        return lowerName.substring(0, lowerName.lastIndexOf('.'));
    }

    /** A read failure inside the compressed stream (bad header, truncated or damaged data). */
    static final class Corrupt extends IOException {
        Corrupt(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The file's decompressed bytes. A damaged stream throws {@link Corrupt} (also from later reads). */
    InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        if (this == NONE) {
            return raw;
        }
        try {
            InputStream in = this == GZIP ? new GZIPInputStream(raw, 1 << 16) : new ZstdInputStream(raw);
            return new Checked(in, this);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw corrupt(e);
        }
    }

    /** Reads the whole decompressed file, or throws a LoroException naming the file. */
    byte[] readAll(Path file) {
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        } catch (Corrupt e) {
            throw new LoroException(file + ": " + e.getMessage());
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    Corrupt corrupt(Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new Corrupt("not valid " + codec + " data (" + why.toLowerCase(Locale.ROOT) + "); the file is damaged,"
                + " truncated or not " + codec + "-compressed despite its " + suffix + " name", e);
    }

    /** Turns every failure of the decompressor into {@link Corrupt}. */
    private static final class Checked extends FilterInputStream {
        private final DataFile kind;

        Checked(InputStream in, DataFile kind) {
            super(in);
            this.kind = kind;
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException | RuntimeException e) {
                throw kind.corrupt(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException | RuntimeException e) {
                throw kind.corrupt(e);
            }
        }
    }
}
