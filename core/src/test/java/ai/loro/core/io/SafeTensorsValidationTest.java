package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file is refused with one line naming the file and the tensor or field. */
class SafeTensorsValidationTest {
    @TempDir
    Path tmp;

    static int counter;

    /** A file with header text {@code header} (unpadded) and {@code data} after it. */
    static Path raw(Path dir, String header, byte[] data) throws IOException {
        return rawBytes(dir, header.getBytes(StandardCharsets.UTF_8), data);
    }

    static Path rawBytes(Path dir, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(data);
        Path f = dir.resolve("t" + (counter++) + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    private String fails(Path f, String... expected) {
        LoroException e = assertThrows(LoroException.class, () -> SafeTensorsFile.open(f).close());
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains(f.toString()), "names the file: " + m);
        for (String s : expected) {
            assertTrue(m.contains(s), "expected '" + s + "' in: " + m);
        }
        return m;
    }

    private static String t(String name, String dtype, String shape, long b, long e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + b + ","
                + e + "]}";
    }

    @Test
    void tooShortFile() throws IOException {
        Path f = tmp.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 0, 0});
        fails(f, "shorter than the 8-byte");
        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        fails(empty, "0 bytes");
    }

    @Test
    void headerLengthLimits() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(100_000_001L).putLong(0);
        Path f = tmp.resolve("big.safetensors");
        Files.write(f, b.array());
        fails(f, "100000001", "exceeds");
        b.clear();
        b.putLong(-1L).putLong(0);
        Files.write(f, b.array());
        fails(f, "18446744073709551615");
        b.clear();
        b.putLong(9).putLong(0);
        Files.write(f, b.array());
        fails(f, "header length 9", "beyond the end");
    }

    @Test
    void headerMustBeUtf8JsonObject() throws IOException {
        fails(raw(tmp, "not json", new byte[0]), "not valid JSON");
        fails(raw(tmp, "", new byte[0]), "empty");
        fails(raw(tmp, "[1,2]", new byte[0]), "JSON object");
        fails(raw(tmp, "{} {}", new byte[0]), "not valid JSON");
        fails(raw(tmp, "{\"a\":{\"dtype\":\"F32\",", new byte[0]), "not valid JSON");
        fails(rawBytes(tmp, new byte[] {'{', '"', (byte) 0xC3, '"', '}'}, new byte[0]), "UTF-8");
        fails(raw(tmp, "{}\0\0\0", new byte[0]), "not valid JSON");
        // leading and trailing JSON whitespace is accepted, as the reference reader does
        try (SafeTensorsFile st = SafeTensorsFile.open(raw(tmp, " \n\t{\"__metadata__\":{\"a\":\"b\"}}  \r\n",
                new byte[0]))) {
            assertTrue(st.tensors().isEmpty());
            assertEquals("b", st.metadata().get("a"));
        }
    }

    @Test
    void duplicateKeys() throws IOException {
        String h = "{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}";
        fails(raw(tmp, h, new byte[8]), "duplicate key", "\"a\"");
        String m = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}";
        fails(raw(tmp, m, new byte[0]), "\"k\"");
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        fails(raw(tmp, "{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__", "\"k\"");
        fails(raw(tmp, "{\"__metadata__\":[]}", new byte[0]), "__metadata__");
    }

    @Test
    void unknownDtype() throws IOException {
        fails(raw(tmp, "{" + t("w", "Q4_0", "[1]", 0, 4) + "}", new byte[4]), "\"w\"", "unknown dtype", "Q4_0");
        fails(raw(tmp, "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "\"w\"", "dtype");
    }

    @Test
    void badShapesAndOffsetFields() throws IOException {
        fails(raw(tmp, "{" + t("w", "F32", "[-1]", 0, 4) + "}", new byte[4]), "\"w\"", "shape[0]");
        fails(raw(tmp, "{" + t("w", "F32", "[1.5]", 0, 4) + "}", new byte[4]), "\"w\"", "shape[0]");
        fails(raw(tmp, "{" + t("w", "F32", "\"1\"", 0, 4) + "}", new byte[4]), "\"w\"", "shape");
        fails(raw(tmp, "{" + t("w", "F32", "[99999999999999999999]", 0, 4) + "}", new byte[4]), "\"w\"");
        fails(raw(tmp, "{" + t("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", new byte[4]), "\"w\"",
                "overflow");
        fails(raw(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "\"w\"",
                "data_offsets");
        fails(raw(tmp, "{" + t("w", "F32", "[1]", 4, 0) + "}", new byte[4]), "\"w\"", "before begin");
        fails(raw(tmp, "{" + t("w", "F4", "[3]", 0, 2) + "}", new byte[2]), "\"w\"", "whole number of bytes");
        fails(raw(tmp, "{\"w\":[1,2]}", new byte[0]), "\"w\"");
    }

    @Test
    void shapeTimesDtypeMustMatchSpan() throws IOException {
        fails(raw(tmp, "{" + t("w", "F32", "[2,3]", 0, 20) + "}", new byte[20]), "\"w\"", "needs 24 bytes",
                "span 20");
        fails(raw(tmp, "{" + t("w", "BF16", "[2]", 0, 8) + "}", new byte[8]), "\"w\"", "needs 4 bytes");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        fails(raw(tmp, "{" + t("w", "F32", "[4]", 0, 16) + "}", new byte[8]), "\"w\"", "beyond the data buffer");
        fails(raw(tmp, "{" + t("a", "F32", "[1]", 0, 4) + "," + t("w", "F32", "[1]", 1000, 1004) + "}",
                new byte[8]), "\"w\"", "gap");
    }

    @Test
    void overlappingOffsets() throws IOException {
        String h = "{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}";
        fails(raw(tmp, h, new byte[12]), "\"b\"", "overlaps");
        String same = "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 0, 4) + "}";
        fails(raw(tmp, same, new byte[4]), "overlaps");
    }

    @Test
    void gapsAndNonZeroStart() throws IOException {
        String h = "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}";
        fails(raw(tmp, h, new byte[12]), "\"b\"", "gap");
        fails(raw(tmp, "{" + t("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "\"a\"", "gap");
    }

    @Test
    void trailingBytes() throws IOException {
        fails(raw(tmp, "{" + t("a", "F32", "[1]", 0, 4) + "}", new byte[5]), "trailing");
        fails(raw(tmp, "{}", new byte[1]), "trailing");
    }

    @Test
    void outOfOrderButContiguousIsFine() throws IOException {
        String h = "{" + t("b", "F32", "[1]", 4, 8) + "," + t("a", "F32", "[0]", 4, 4) + "," + t("c", "F32", "[]", 0, 4)
                + "," + t("z", "I64", "[1]", 8, 16) + "}";
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putLong(7);
        try (SafeTensorsFile st = SafeTensorsFile.open(raw(tmp, h, d.array()));
                NDManager m = NDManager.newBaseManager()) {
            assertEquals(List.of("b", "a", "c", "z"), List.copyOf(st.tensors().keySet()));
            assertEquals(2f, st.readFloats("b")[0]);
            assertEquals(1f, st.readFloats("c")[0]);
            LoroException e = assertThrows(LoroException.class, () -> st.load("z", m, DataType.FLOAT32));
            assertTrue(e.getMessage().contains("\"z\"") && e.getMessage().contains("I64"), e.getMessage());
            assertThrows(LoroException.class, () -> st.readFloats("z"));
        }
    }

    @Test
    void missingFile() {
        fails(tmp.resolve("absent.safetensors"), "not found");
        assertThrows(LoroException.class, () -> SafeTensorsFile.open(null));
    }
}
