package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading BF16/F32 checkpoints as fp16 (the GPU compute dtype): values inside half's range narrow
 * with round-to-nearest-even; a finite value that would round to ±inf is a one-line error naming
 * the tensor and element, never an inf in the weights.
 */
class Fp16RangeTest {
    @TempDir Path tmp;

    private float[] loadAsHalf(String dtype, float... values) {
        Path f = tmp.resolve(dtype + values.length + ".safetensors");
        SafeTensorsWriter.writeFloats(f, Map.of("w", values), null, null, dtype);
        try (SafeTensorsFile st = SafeTensorsFile.open(f); NDManager m = NDManager.newBaseManager()) {
            NDArray a = st.load("w", m, DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, a.getDataType());
            return a.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    @Test
    void valuesWithinHalfRangeNarrowExactly() {
        // 65280 is a bf16 value and a half value; -2^-24 is half's smallest subnormal
        assertArrayEquals(new float[] {1f, 65280f, -65280f, 0.5f, -0x1p-24f}, loadAsHalf("BF16", 1f, 65280f, -65280f, 0.5f, -0x1p-24f));
        // F32 65519 rounds down to half's max 65504 (the next half step, 65536, is inf)
        assertArrayEquals(new float[] {65504f, -65504f, 0.1f == 0.1f ? Bf16.fp16ToFloat(Bf16.floatToFp16(0.1f)) : 0},
                loadAsHalf("F32", 65519f, -65519f, 0.1f));
    }

    @Test
    void overflowIsAnErrorNamingTensorAndElement() {
        // bf16 65536 (0x4780) and F32 70000 are finite in their dtype and inf in half
        LoroException e = assertThrows(LoroException.class, () -> loadAsHalf("BF16", 1f, 65536f));
        assertTrue(e.getMessage().contains("'w'") || e.getMessage().contains("\"w\"") || e.getMessage().contains("w "), e.getMessage());
        assertTrue(e.getMessage().contains("element 1") && e.getMessage().contains("65504") && !e.getMessage().contains("\n"),
                e.getMessage());
        assertThrows(LoroException.class, () -> loadAsHalf("F32", 2f, 3f, -70000f));
        assertThrows(LoroException.class, () -> loadAsHalf("F32", 65520f), "65520 is the first value that rounds to inf");
    }
}
