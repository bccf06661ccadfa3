package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes small Parquet files the way pyarrow lays them out (3-level LIST of structs) and reads them back. */
class ParquetReaderTest {
    @TempDir Path dir;

    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("message schema {\n"
            + "  optional int64 id;\n"
            + "  optional binary system (STRING);\n"
            + "  optional group messages (LIST) {\n"
            + "    repeated group list {\n"
            + "      optional group element {\n"
            + "        optional binary role (STRING);\n"
            + "        optional binary content (STRING);\n"
            + "      }\n"
            + "    }\n"
            + "  }\n"
            + "  optional group tags (LIST) { repeated group list { optional binary element (STRING); } }\n"
            + "  optional double score;\n"
            + "  optional boolean ok;\n"
            + "}");

    private Path write(CompressionCodecName codec, int rows) throws Exception {
        Path f = dir.resolve("chat-" + codec + ".parquet");
        Files.deleteIfExists(f);
        SimpleGroupFactory gf = new SimpleGroupFactory(SCHEMA);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(f))
                .withConf(new PlainParquetConfiguration()).withCodecFactory(new ParquetCodecs()).withType(SCHEMA)
                .withCompressionCodec(codec).build()) {
            for (int i = 0; i < rows; i++) {
                Group g = gf.newGroup().append("id", (long) i);
                if (i % 2 == 0) {
                    g.append("system", "be brief");
                }
                Group list = g.addGroup("messages");
                list.addGroup("list").addGroup("element").append("role", "user").append("content", "q" + i);
                list.addGroup("list").addGroup("element").append("role", "assistant").append("content", "a" + i);
                Group tags = g.addGroup("tags");
                tags.addGroup("list").append("element", "x");
                tags.addGroup("list").append("element", "y\u00e9");
                g.append("score", 0.5 * i).append("ok", i % 3 == 0);
                w.write(g);
            }
        }
        return f;
    }

    @Test
    void readsNestedColumnsAsJson() throws Exception {
        for (CompressionCodecName codec : List.of(CompressionCodecName.UNCOMPRESSED, CompressionCodecName.SNAPPY,
                CompressionCodecName.ZSTD, CompressionCodecName.GZIP, CompressionCodecName.LZ4_RAW)) {
            Path f = write(codec, 3);
            List<Row> rows = DatasetReader.read(f);
            assertEquals(3, rows.size(), codec.toString());
            Row r = rows.get(1);
            assertEquals(2, r.line());
            assertEquals(f + " row 2", r.where());
            assertEquals(1, r.data().get("id").asLong());
            assertTrue(r.data().get("system").isNull());
            assertEquals("{\"role\":\"assistant\",\"content\":\"a1\"}", r.data().get("messages").get(1).toString());
            assertEquals("[\"x\",\"y\u00e9\"]", r.data().get("tags").toString());
            assertEquals(0.5, r.data().get("score").asDouble());
            assertEquals(false, r.data().get("ok").asBoolean());
            assertEquals("be brief", rows.get(0).data().get("system").asText());
        }
    }

    @Test
    void parquetMessagesFormat() throws Exception {
        Path f = write(CompressionCodecName.SNAPPY, 2);
        List<Sample> s = Datasets.load(f, DatasetFormat.MESSAGES);
        assertEquals(List.of(ChatMessage.user("q1"), ChatMessage.assistant("a1")), ((Conversation) s.get(1)).messages());
        assertEquals(f + " row 2", s.get(1).source());
    }

    /**
     * Files written by pyarrow 25 ({@code pyarrow.parquet.write_table}, as Hugging Face datasets exports them) with
     * each codec it offers for Hub data, and GZIP with data page v2; see src/test/resources/parquet/README.md.
     */
    @Test
    void readsPyarrowFilesOfEveryHubCodec() throws Exception {
        for (String name : List.of("none", "snappy", "gzip", "zstd", "gzip-v2")) {
            Path f = CompressedDataFilesTest.resource("parquet/messages-" + name + ".parquet");
            List<Sample> s = Datasets.load(f, DatasetFormat.MESSAGES);
            assertEquals(3, s.size(), name);
            assertEquals(List.of(ChatMessage.system("be brief"), ChatMessage.user("Caf\u00e9?"),
                    ChatMessage.assistant("A place for coffee \u2615")), ((Conversation) s.get(1)).messages(), name);
            assertEquals(f + " row 3", s.get(2).source());
            List<Row> rows = DatasetReader.read(f);
            assertTrue(rows.get(1).data().get("score").isNull(), name);
            assertEquals(1.25, rows.get(2).data().get("score").asDouble(), name);
            assertEquals(2, rows.get(2).data().get("id").asLong(), name);
            assertEquals("math", rows.get(2).data().get("source").asText(), name);
        }
    }

    @Test
    void unsupportedCodecIsOneLine() throws Exception {
        Path f = CompressedDataFilesTest.resource("parquet/text-brotli.parquet"); // pyarrow, compression='brotli'
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertEquals(f + ": column 'text' uses BROTLI compression, which Loro's Parquet reader does not support"
                + " (supported: [UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW]); re-save the file, e.g. with"
                + " pyarrow.parquet.write_table(table, path, compression='zstd')", e.getMessage());
    }

    @Test
    void notParquet() {
        Path f = TestData.write(dir, "x.parquet", "not parquet at all");
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": cannot read Parquet file"), e.getMessage());
    }
}
