package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsRoundTripTest {
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
        SafeTensorsFile.chunkBytes = 64L << 20;
        SafeTensorsWriter.chunkBytes = 64L << 20;
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(-20, 10)));
        }
        return v;
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void f32RoundTripExactViaNDArray() throws IOException {
        float[] a = randomFloats(6 * 5, 1);
        float[] b = {Float.NaN, Float.POSITIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE};
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("z.weight", manager.create(a, new Shape(6, 5)));
        t.put("a.bias", manager.create(b));
        t.put("scalar", manager.create(3.5f)); // 0-rank
        t.put("empty", manager.create(new Shape(0, 4), DataType.FLOAT32));
        Path f = tmp.resolve("m.safetensors");
        SafeTensorsWriter.write(f, t, Map.of("note", "hi"), "F32");
        assertEquals(List.of("m.safetensors"), files(tmp));
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            // writer lays tensors out by name
            assertEquals(List.of("a.bias", "empty", "scalar", "z.weight"), List.copyOf(st.tensors().keySet()));
            assertEquals(Map.of("format", "pt", "note", "hi"), st.metadata());
            assertArrayEquals(a, st.readFloats("z.weight"));
            assertArrayEquals(b, st.readFloats("a.bias"));
            NDArray w = st.load("z.weight", manager, DataType.FLOAT32);
            assertEquals(new Shape(6, 5), w.getShape());
            assertArrayEquals(a, w.toFloatArray());
            NDArray s = st.load("scalar", manager, DataType.FLOAT32);
            assertEquals(new Shape(), s.getShape());
            assertEquals(3.5f, s.getFloat());
            NDArray e = st.load("empty", manager, DataType.FLOAT32);
            assertEquals(new Shape(0, 4), e.getShape());
            assertEquals(0, st.readFloats("empty").length);
            assertArrayEquals(new long[] {0, 4}, st.tensors().get("empty").shape());
            assertEquals(0, st.tensors().get("scalar").shape().length);
            assertEquals(1, st.tensors().get("scalar").numel());
            NDArray d = st.load("z.weight", manager, DataType.FLOAT64);
            assertEquals(DataType.FLOAT64, d.getDataType());
            double[] dv = d.toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], dv[i], 0.0);
            }
        }
    }

    @Test
    void headerLayoutFollowsTheReferenceWriter() throws IOException {
        Path f = tmp.resolve("h.safetensors");
        Map<String, float[]> data = new LinkedHashMap<>();
        data.put("b", new float[] {1, 2, 3});
        data.put("a", new float[] {4});
        SafeTensorsWriter.writeFloats(f, data, null, null, "F16");
        byte[] all = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[2,8]}}", header.stripTrailing());
        assertTrue(header.substring(header.lastIndexOf('}') + 1).chars().allMatch(c -> c == ' '));
        assertEquals(8 + n + 8, all.length);
        // little-endian fp16 of 4.0 = 0x4400
        assertEquals(0x00, all[8 + (int) n] & 0xFF);
        assertEquals(0x44, all[8 + (int) n + 1] & 0xFF);
    }

    @Test
    void f16RoundTripNarrowsLikeTheBitLevelRule() {
        float[] v = randomFloats(1000, 2);
        v[0] = 1e6f; // overflow -> inf
        v[1] = 1e-9f; // underflow -> 0
        v[2] = 1f + 0x1p-11f; // tie -> 1
        v[3] = 3e-6f; // subnormal
        Path f = tmp.resolve("h.safetensors");
        SafeTensorsWriter.write(f, Map.of("w", manager.create(v, new Shape(10, 100))), null, "F16");
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            float[] back = st.readFloats("w");
            for (int i = 0; i < v.length; i++) {
                assertEquals(Bf16Test.FP16.decode(Bf16Test.FP16.round(v[i])), back[i], 0.0, "i=" + i);
            }
            assertEquals(Float.POSITIVE_INFINITY, back[0]);
            assertEquals(0f, back[1]);
            assertEquals(1f, back[2]);
            NDArray h = st.load("w", manager, DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, h.getDataType());
            assertArrayEquals(back, h.toType(DataType.FLOAT32, false).toFloatArray());
            assertArrayEquals(back, st.load("w", manager, DataType.FLOAT32).toFloatArray());
        }
    }

    @Test
    void bf16RoundTripNarrowsLikeTheBitLevelRule() {
        float[] v = randomFloats(1000, 3);
        v[0] = Float.MAX_VALUE; // -> inf
        v[1] = Float.intBitsToFloat(0x3F808000); // tie -> 1
        v[2] = Float.intBitsToFloat(0x3F818000); // tie -> up
        v[3] = Float.NaN;
        Path f = tmp.resolve("b.safetensors");
        Map<String, float[]> data = Map.of("w", v);
        SafeTensorsWriter.writeFloats(f, data, Map.of("w", new long[] {20, 50}), Map.of(), "BF16");
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertEquals("BF16", st.tensors().get("w").dtype());
            float[] back = st.readFloats("w");
            for (int i = 4; i < v.length; i++) {
                int expected = Float.floatToRawIntBits(Bf16Test.BF16.round(v[i]) == 0 ? 0f
                        : (float) Bf16Test.BF16.decode(Bf16Test.BF16.round(v[i])));
                assertEquals(expected, Float.floatToRawIntBits(back[i]), "i=" + i);
            }
            assertEquals(Float.POSITIVE_INFINITY, back[0]);
            assertEquals(1f, back[1]);
            assertEquals(Float.intBitsToFloat(0x3F820000), back[2]);
            assertTrue(Float.isNaN(back[3]));
            NDArray a = st.load("w", manager, DataType.FLOAT32);
            assertEquals(new Shape(20, 50), a.getShape());
            assertArrayEquals(back, a.toFloatArray());
            NDArray d = st.load("w", manager, DataType.FLOAT64);
            assertEquals(back[10], d.toDoubleArray()[10], 0.0);
            NDArray h = st.load("w", manager, DataType.FLOAT16);
            assertEquals(Bf16.floatToFp16(back[10]), h.toByteBuffer().order(ByteOrder.nativeOrder()).getShort(20));
            // writing the widened values back as BF16 is lossless
            Path g = tmp.resolve("b2.safetensors");
            SafeTensorsWriter.write(g, Map.of("w", a), null, "BF16");
            try (SafeTensorsFile st2 = SafeTensorsFile.open(g)) {
                assertArrayEquals(back, st2.readFloats("w"));
            }
        }
    }

    @Test
    void fp16AndFp64ArraysAndNonContiguousArraysAreWrittenRowMajor() {
        float[] v = randomFloats(12, 4);
        NDArray base = manager.create(v, new Shape(3, 4));
        NDArray transposed = base.transpose(); // [4, 3], not contiguous
        NDArray half = base.toType(DataType.FLOAT16, false);
        NDArray dbl = base.toType(DataType.FLOAT64, false);
        Path f = tmp.resolve("x.safetensors");
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("t", transposed);
        t.put("h", half);
        t.put("d", dbl);
        SafeTensorsWriter.write(f, t, null, "F32");
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertArrayEquals(transposed.toFloatArray(), st.readFloats("t"));
            assertArrayEquals(new long[] {4, 3}, st.tensors().get("t").shape());
            assertArrayEquals(half.toType(DataType.FLOAT32, false).toFloatArray(), st.readFloats("h"));
            assertArrayEquals(v, st.readFloats("d"));
        }
    }

    @Test
    void chunkedPathsGiveTheSameResult() {
        float[] v = randomFloats(1000, 5);
        Path f = tmp.resolve("c.safetensors");
        SafeTensorsWriter.chunkBytes = 64; // 16 elements per chunk while writing
        SafeTensorsWriter.write(f, Map.of("w", manager.create(v, new Shape(10, 100))), null, "BF16");
        SafeTensorsFile.chunkBytes = 40; // 10 elements per chunk while reading
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            float[] expected = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                expected[i] = Bf16.toFloat(Bf16.fromFloat(v[i]));
            }
            assertArrayEquals(expected, st.readFloats("w"));
            NDArray a = st.load("w", manager, DataType.FLOAT32);
            assertEquals(new Shape(10, 100), a.getShape());
            assertArrayEquals(expected, a.toFloatArray());
        }
    }

    @Test
    void loadedArraysBelongToTheGivenManagerAndOutliveTheFile() {
        Path f = tmp.resolve("o.safetensors");
        SafeTensorsWriter.writeFloats(f, Map.of("w", new float[] {1, 2, 3, 4}), null, null, "BF16");
        BaseNDManager parent = (BaseNDManager) NDManager.newBaseManager();
        try (NDManager child = parent.newSubManager()) {
            parent.cap(); // any array leaked into the parent now throws
            NDArray a;
            try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
                SafeTensorsFile.chunkBytes = 8; // chunked path too
                a = st.load("w", child, DataType.FLOAT32);
                NDArray b = st.load("w", child, DataType.FLOAT16);
                assertEquals(child, a.getManager());
                assertEquals(child, b.getManager());
            }
            // the file is closed: the array holds its own copy
            a.addi(1);
            assertArrayEquals(new float[] {2, 3, 4, 5}, a.toFloatArray());
            assertEquals(2, child.getManagedArrays().size());
        } finally {
            parent.close();
        }
    }

    @Test
    void readsF64Files() throws IOException {
        double[] d = {1.0000000001, -2.5, 1e300};
        String h = "{\"x\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]}}";
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : d) {
            data.putDouble(x);
        }
        Path f = SafeTensorsValidationTest.raw(tmp, h, data.array());
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertArrayEquals(d, st.load("x", manager, DataType.FLOAT64).toDoubleArray());
            assertArrayEquals(new float[] {1f, -2.5f, Float.POSITIVE_INFINITY}, st.readFloats("x"));
        }
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTempFile() throws IOException {
        Path f = tmp.resolve("r.safetensors");
        SafeTensorsWriter.writeFloats(f, Map.of("a", new float[] {1}), null, null, "F32");
        SafeTensorsWriter.writeFloats(f, Map.of("b", new float[] {2}), null, null, "F32");
        assertEquals(List.of("r.safetensors"), files(tmp));
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertEquals(List.of("b"), List.copyOf(st.tensors().keySet()));
        }
    }

    @Test
    void failedWritesLeaveNoFiles() throws IOException {
        Path f = tmp.resolve("bad.safetensors");
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("ok", manager.create(new float[] {1}));
        t.put("int", manager.create(new int[] {1}));
        LoroException e = assertThrows(LoroException.class, () -> SafeTensorsWriter.write(f, t, null, "F32"));
        assertTrue(e.getMessage().contains("\"int\""), e.getMessage());
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeFloats(f, Map.of("a", new float[] {1}),
                null, null, "F8_E4M3"));
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeFloats(f, Map.of("a", new float[] {1, 2}),
                Map.of("a", new long[] {3}), null, "F32"));
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeFloats(f,
                Map.of("__metadata__", new float[] {1}), null, null, "F32"));
        // a failure inside the body (a closed array) after the temp file was created
        NDArray closed = manager.create(new float[] {1, 2});
        Map<String, NDArray> t2 = new LinkedHashMap<>();
        t2.put("a", manager.create(new float[] {1}));
        t2.put("b", closed);
        Shape s = closed.getShape();
        closed.close();
        e = assertThrows(LoroException.class, () -> SafeTensorsWriter.write(f, t2, null, "F32"));
        assertTrue(e.getMessage().contains("\"b\""), e.getMessage());
        // a failure in the middle of writing the body
        LoroException mid = assertThrows(LoroException.class, () -> SafeTensorsWriter.writeAtomically(f, ch -> {
            ch.write(ByteBuffer.wrap(new byte[100]));
            throw new LoroException("boom");
        }));
        assertEquals("boom", mid.getMessage());
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeAtomically(f, ch -> {
            throw new IOException("disk full");
        }));
        assertEquals(List.of(), files(tmp), "no temp or partial file, shape was " + s);
        assertThrows(LoroException.class, () -> SafeTensorsWriter.writeFloats(tmp.resolve("no/such/dir/x"),
                Map.of("a", new float[] {1}), null, null, "F32"));
        assertFalse(Files.exists(tmp.resolve("no")));
    }

    @Test
    void loadErrorsNameFileAndTensor() {
        Path f = tmp.resolve("e.safetensors");
        SafeTensorsWriter.writeFloats(f, Map.of("w", new float[] {1}), null, null, "F32");
        SafeTensorsFile st = SafeTensorsFile.open(f);
        LoroException e = assertThrows(LoroException.class, () -> st.load("nope", manager, DataType.FLOAT32));
        assertTrue(e.getMessage().contains("e.safetensors") && e.getMessage().contains("\"nope\""), e.getMessage());
        e = assertThrows(LoroException.class, () -> st.load("w", manager, DataType.INT32));
        assertTrue(e.getMessage().contains("\"w\""), e.getMessage());
        st.close();
        assertThrows(LoroException.class, () -> st.readFloats("w"));
        assertTrue(st.isClosed());
    }
}
