package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path tmp;

    NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** "a" 10 floats, "b" 30, "c" 5, "d" 100: with F32 and a 160-byte limit -> [a,b] [d] [c]. */
    Map<String, NDArray> tensors() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("a", manager.arange(10f));
        t.put("b", manager.arange(30f).reshape(5, 6));
        t.put("c", manager.arange(5f).add(100));
        t.put("d", manager.arange(100f).reshape(10, 10));
        return t;
    }

    private String fails(Path dir, String... expected) {
        LoroException e = assertThrows(LoroException.class, () -> Checkpoint.open(dir).close());
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        for (String s : expected) {
            assertTrue(m.contains(s), "expected '" + s + "' in: " + m);
        }
        return m;
    }

    @Test
    void shardedWriteAndReadWithIndex() throws IOException {
        Map<String, NDArray> t = tensors();
        SafeTensorsWriter.writeCheckpoint(tmp, t, "F32", 160);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"),
                SafeTensorsRoundTripTest.files(tmp));
        String index = Files.readString(tmp.resolve("model.safetensors.index.json"));
        assertEquals("{\n"
                + "  \"metadata\": {\n"
                + "    \"total_size\": 580\n"
                + "  },\n"
                + "  \"weight_map\": {\n"
                + "    \"a\": \"model-00001-of-00003.safetensors\",\n"
                + "    \"b\": \"model-00001-of-00003.safetensors\",\n"
                + "    \"c\": \"model-00003-of-00003.safetensors\",\n"
                + "    \"d\": \"model-00002-of-00003.safetensors\"\n"
                + "  }\n"
                + "}\n", index);
        try (Checkpoint ck = Checkpoint.open(tmp)) {
            assertEquals(List.of("a", "b", "c", "d"), List.copyOf(ck.names()));
            assertEquals(3, ck.files().size());
            assertTrue(ck.contains("d"));
            assertFalse(ck.contains("e"));
            assertArrayEquals(new long[] {10, 10}, ck.info("d").shape());
            for (Map.Entry<String, NDArray> e : t.entrySet()) {
                NDArray a = ck.load(e.getKey(), manager, DataType.FLOAT32);
                assertEquals(e.getValue().getShape(), a.getShape());
                assertArrayEquals(e.getValue().toFloatArray(), a.toFloatArray());
            }
            assertEquals(tmp, ck.directory());
            LoroException e = assertThrows(LoroException.class, () -> ck.load("zz", manager, DataType.FLOAT32));
            assertTrue(e.getMessage().contains("\"zz\"") && e.getMessage().contains(tmp.toString()));
        }
        for (String shard : List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors")) {
            try (SafeTensorsFile f = SafeTensorsFile.open(tmp.resolve(shard))) {
                assertEquals(Map.of("format", "pt"), f.metadata());
            }
        }
    }

    @Test
    void oneShardMeansModelSafetensorsAndNoIndexAndStaleFilesGo() throws IOException {
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 160);
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "BF16", 5_000_000_000L);
        assertEquals(List.of("model.safetensors"), SafeTensorsRoundTripTest.files(tmp));
        try (Checkpoint ck = Checkpoint.open(tmp)) {
            assertEquals(List.of("a", "b", "c", "d"), List.copyOf(ck.names()));
            assertEquals("BF16", ck.info("a").dtype());
            assertArrayEquals(manager.arange(10f).toFloatArray(), ck.readFloats("a"));
        }
        // and back to shards: the single file is removed after the index is written
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F16", 250);
        assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json"), SafeTensorsRoundTripTest.files(tmp));
        try (Checkpoint ck = Checkpoint.open(tmp)) {
            assertEquals(4, ck.names().size());
        }
    }

    @Test
    void emptyCheckpointAndZeroRank() throws IOException {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("s", manager.create(2f));
        t.put("e", manager.create(new Shape(3, 0), DataType.FLOAT32));
        Path dir = tmp.resolve("new/dir");
        SafeTensorsWriter.writeCheckpoint(dir, t, "F32", 1);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(2f, ck.load("s", manager, DataType.FLOAT32).getFloat());
            assertEquals(new Shape(3, 0), ck.load("e", manager, DataType.FLOAT32).getShape());
        }
        Path none = tmp.resolve("none");
        SafeTensorsWriter.writeCheckpoint(none, Map.of(), "F32", 100);
        try (Checkpoint ck = Checkpoint.open(none)) {
            assertTrue(ck.names().isEmpty());
        }
    }

    @Test
    void adapterFile() throws IOException {
        Path f = tmp.resolve("adapter_model.safetensors");
        SafeTensorsWriter.writeFloats(f, Map.of("base_model.model.x.lora_A.weight", new float[] {1, 2}),
                null, null, "F32");
        try (Checkpoint ck = Checkpoint.open(tmp, "adapter_model.safetensors")) {
            assertEquals(List.of("base_model.model.x.lora_A.weight"), List.copyOf(ck.names()));
        }
        try (Checkpoint ck = Checkpoint.open(tmp)) { // the only *.safetensors file
            assertEquals(1, ck.names().size());
        }
        SafeTensorsWriter.writeFloats(tmp.resolve("other.safetensors"), Map.of("x", new float[] {1}), null, null,
                "F32");
        fails(tmp, "2 other *.safetensors files");
        assertThrows(LoroException.class, () -> Checkpoint.open(tmp, "absent.safetensors"));
        assertThrows(LoroException.class, () -> Checkpoint.open(tmp, "../x.safetensors"));
        fails(tmp.resolve("nodir"), "not found");
    }

    @Test
    void missingShard() throws IOException {
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 160);
        Files.delete(tmp.resolve("model-00002-of-00003.safetensors"));
        fails(tmp, "model.safetensors.index.json", "model-00002-of-00003.safetensors", "does not exist");
    }

    @Test
    void indexNamingAbsentTensor() throws IOException {
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 160);
        Path idx = tmp.resolve("model.safetensors.index.json");
        String s = Files.readString(idx).replace("\"a\": \"model-00001", "\"ghost\": \"model-00001")
                .replace("\"c\": \"model-00003", "\"c\": \"model-00001");
        Files.writeString(idx, s);
        fails(tmp, "\"ghost\"", "model-00001-of-00003.safetensors", "does not contain");
    }

    @Test
    void tensorInTwoShards() throws IOException {
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 160);
        // rewrite shard 3 so that it also holds "a"
        SafeTensorsWriter.writeFloats(tmp.resolve("model-00003-of-00003.safetensors"),
                Map.of("c", new float[5], "a", new float[10]), null, null, "F32");
        fails(tmp, "\"a\"", "two shards");
    }

    @Test
    void badIndexFiles() throws IOException {
        SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 160);
        Path idx = tmp.resolve("model.safetensors.index.json");
        Files.writeString(idx, "{\"weight_map\": {\"a\": \"model-00001-of-00003.safetensors\", "
                + "\"a\": \"model-00002-of-00003.safetensors\"}}");
        fails(tmp, "duplicate key", "\"a\"");
        Files.writeString(idx, "{\"metadata\": {}}");
        fails(tmp, "weight_map");
        Files.writeString(idx, "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
        fails(tmp, "inside");
        Files.writeString(idx, "not json");
        fails(tmp, "not valid JSON");
        Files.write(idx, "{\"weight_map\": {\"a\": 3}}".getBytes(StandardCharsets.UTF_8));
        fails(tmp, "\"a\"");
        // a bad shard is reported with the shard's own message
        Files.writeString(idx, "{\"weight_map\": {\"a\": \"model-00001-of-00003.safetensors\"}}");
        Files.write(tmp.resolve("model-00001-of-00003.safetensors"), new byte[] {1, 2});
        fails(tmp, "model-00001-of-00003.safetensors", "shorter than the 8-byte");
    }

    @Test
    void sharedWritesLeaveNoTempFiles() throws IOException {
        Map<String, NDArray> t = tensors();
        t.put("bad", manager.create(new int[] {1}));
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeCheckpoint(tmp, t, "F32", 160));
        assertTrue(SafeTensorsRoundTripTest.files(tmp).stream().noneMatch(n -> n.contains(".tmp-")),
                SafeTensorsRoundTripTest.files(tmp).toString());
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "F32", 0));
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeCheckpoint(tmp, tensors(), "I8", 100));
    }
}
