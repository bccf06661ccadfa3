package ai.loro.datasets;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Parquet files (as written by pyarrow / Hugging Face datasets) to JSON rows, through parquet-java's
 * record API without Hadoop (parquet-floor supplies the few Hadoop classes parquet-java links to).
 * Strings, numbers, booleans, LIST (e.g. a "messages" column of structs) and MAP columns become the
 * JSON values a .jsonl file would hold; binary columns without a string annotation become base64.
 */
final class ParquetRows {
    private ParquetRows() {}

    /**
     * Codecs read without Hadoop's own codec classes ({@link ParquetCodecs}): every codec pyarrow and Hugging Face
     * exports use. BROTLI, LZ4 (the deprecated Hadoop-framed one) and LZO would need Hadoop's.
     */
    static final Set<CompressionCodecName> SUPPORTED_CODECS = EnumSet.of(CompressionCodecName.UNCOMPRESSED,
            CompressionCodecName.SNAPPY, CompressionCodecName.ZSTD, CompressionCodecName.GZIP,
            CompressionCodecName.LZ4_RAW);

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    static List<Row> read(Path file, BadRows bad) {
        List<Row> out = new ArrayList<>();
        long index = 0;
        ParquetReadOptions options = ParquetReadOptions.builder(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs()).build();
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file), options)) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            for (BlockMetaData block : reader.getFooter().getBlocks()) {
                for (ColumnChunkMetaData col : block.getColumns()) {
                    if (!SUPPORTED_CODECS.contains(col.getCodec())) {
                        throw new LoroException(file + ": column '" + col.getPath().toDotString() + "' uses "
                                + col.getCodec() + " compression, which Loro's Parquet reader does not support"
                                + " (supported: " + SUPPORTED_CODECS + "); re-save the file, e.g. with"
                                + " pyarrow.parquet.write_table(table, path, compression='zstd')");
                    }
                }
            }
            MessageColumnIO io = new ColumnIOFactory().getColumnIO(schema);
            PageReadStore pages;
            while ((pages = reader.readNextRowGroup()) != null) {
                long rows = pages.getRowCount();
                RecordReader<Group> rr = io.getRecordReader(pages, new GroupRecordConverter(schema));
                for (long i = 0; i < rows; i++) {
                    index++;
                    Group g = rr.read();
                    ObjectNode o;
                    try {
                        o = group(g, schema);
                    } catch (RuntimeException e) {
                        bad.handle(new LoroException(file + " row " + index + ": cannot convert Parquet record: "
                                + LoroException.oneLine(e.getMessage(), 200), e));
                        continue;
                    }
                    out.add(new Row(file, index, Row.ROW, o));
                }
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            if (e instanceof LoroException le) {
                throw le;
            }
            throw new LoroException(file + (index > 0 ? " row " + index : "") + ": cannot read Parquet file: "
                    + LoroException.oneLine(e.getMessage(), 200), e);
        }
        return out;
    }

    private static ObjectNode group(Group g, GroupType type) {
        ObjectNode o = F.objectNode();
        for (int f = 0; f < type.getFieldCount(); f++) {
            Type ft = type.getType(f);
            int n = g.getFieldRepetitionCount(f);
            if (ft.isRepetition(Type.Repetition.REPEATED)) {
                ArrayNode a = F.arrayNode();
                for (int i = 0; i < n; i++) {
                    a.add(value(g, f, i, ft));
                }
                o.set(ft.getName(), a);
            } else {
                o.set(ft.getName(), n == 0 ? F.nullNode() : value(g, f, 0, ft));
            }
        }
        return o;
    }

    private static JsonNode value(Group g, int field, int index, Type t) {
        if (t.isPrimitive()) {
            return primitive(g, field, index, t.asPrimitiveType());
        }
        GroupType gt = t.asGroupType();
        Group child = g.getGroup(field, index);
        LogicalTypeAnnotation ann = gt.getLogicalTypeAnnotation();
        if (ann instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation && gt.getFieldCount() == 1
                && gt.getType(0).isRepetition(Type.Repetition.REPEATED)) {
            Type rep = gt.getType(0);
            ArrayNode a = F.arrayNode();
            int n = child.getFieldRepetitionCount(0);
            for (int i = 0; i < n; i++) {
                if (!rep.isPrimitive() && rep.asGroupType().getFieldCount() == 1
                        && !"array".equals(rep.getName()) && !rep.getName().endsWith("_tuple")) {
                    // 3-level list: repeated group list { optional element }
                    Group item = child.getGroup(0, i);
                    Type elem = rep.asGroupType().getType(0);
                    a.add(item.getFieldRepetitionCount(0) == 0 ? F.nullNode() : value(item, 0, 0, elem));
                } else {
                    a.add(value(child, 0, i, rep)); // 2-level (legacy) list
                }
            }
            return a;
        }
        if ((ann instanceof LogicalTypeAnnotation.MapLogicalTypeAnnotation
                || ann instanceof LogicalTypeAnnotation.MapKeyValueTypeAnnotation)
                && gt.getFieldCount() == 1 && !gt.getType(0).isPrimitive()
                && gt.getType(0).asGroupType().getFieldCount() == 2) {
            GroupType kv = gt.getType(0).asGroupType();
            ObjectNode m = F.objectNode();
            int n = child.getFieldRepetitionCount(0);
            for (int i = 0; i < n; i++) {
                Group e = child.getGroup(0, i);
                JsonNode k = value(e, 0, 0, kv.getType(0));
                m.set(k.isTextual() ? k.asText() : k.toString(),
                        e.getFieldRepetitionCount(1) == 0 ? F.nullNode() : value(e, 1, 0, kv.getType(1)));
            }
            return m;
        }
        return group(child, gt);
    }

    private static JsonNode primitive(Group g, int field, int index, PrimitiveType p) {
        LogicalTypeAnnotation ann = p.getLogicalTypeAnnotation();
        switch (p.getPrimitiveTypeName()) {
            case BOOLEAN:
                return F.booleanNode(g.getBoolean(field, index));
            case INT32:
                return F.numberNode(g.getInteger(field, index));
            case INT64:
                return F.numberNode(g.getLong(field, index));
            case FLOAT:
                return F.numberNode(g.getFloat(field, index));
            case DOUBLE:
                return F.numberNode(g.getDouble(field, index));
            case BINARY:
            case FIXED_LEN_BYTE_ARRAY:
                byte[] b = g.getBinary(field, index).getBytes();
                if (ann instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                        || ann instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation
                        || ann instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                        || (ann == null && p.getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY)) {
                    return F.textNode(new String(b, StandardCharsets.UTF_8));
                }
                return F.textNode(Base64.getEncoder().encodeToString(b));
            default:
                return F.textNode(g.getValueToString(field, index));
        }
    }
}
