package ai.loro.datasets;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Parquet page codecs without Hadoop: parquet-java's own factory for UNCOMPRESSED, SNAPPY (snappy-java),
 * ZSTD (zstd-jni) and LZ4_RAW (aircompressor), plus GZIP through {@code java.util.zip}. parquet-java's GZIP
 * goes through Hadoop's GzipCodec class, which is not on Loro's class path (parquet-floor stands in for
 * only a few Hadoop classes). A GZIP page is a gzip stream (RFC 1952); pyarrow and Spark write it so.
 */
final class ParquetCodecs implements CompressionCodecFactory {
    private final CodecFactory parquet = new CodecFactory(new PlainParquetConfiguration(), 0);

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
        return codec == CompressionCodecName.GZIP ? new Gzip() : parquet.getCompressor(codec);
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        return codec == CompressionCodecName.GZIP ? new Gzip() : parquet.getDecompressor(codec);
    }

    @Override
    public void release() {
        parquet.release();
    }

    private static final class Gzip implements BytesInputCompressor, BytesInputDecompressor {
        @Override
        public BytesInput compress(BytesInput bytes) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                bytes.writeAllTo(gz);
            }
            return BytesInput.from(out.toByteArray());
        }

        @Override
        public CompressionCodecName getCodecName() {
            return CompressionCodecName.GZIP;
        }

        @Override
        public BytesInput decompress(BytesInput bytes, int decompressedSize) throws IOException {
            return BytesInput.from(inflate(bytes.toInputStream(), decompressedSize));
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize)
                throws IOException {
            byte[] in = new byte[compressedSize];
            input.duplicate().get(in);
            output.put(inflate(new ByteArrayInputStream(in), decompressedSize));
        }

        private static byte[] inflate(InputStream compressed, int size) throws IOException {
            try (GZIPInputStream gz = new GZIPInputStream(compressed)) {
                byte[] out = gz.readNBytes(size);
                if (out.length != size) {
                    throw new IOException("GZIP page holds " + out.length + " bytes, its header says " + size);
                }
                return out;
            }
        }

        @Override
        public void release() {}
    }
}
