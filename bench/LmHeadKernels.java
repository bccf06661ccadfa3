// What libtorch (through DJL) does with the decode step's largest product, the tied LM head: one hidden row
// (1, 512) against the (128256, 512) fp32 embedding, 263 MB of weights read per token. Times each way of
// writing the product, next to a plain sum over the same weights (a floor: it reads the same bytes once).
// Each line: mean and min milliseconds over 30 calls after 5 warm-up calls.
//
// Usage: java -cp cli/target/loro-cli.jar bench/LmHeadKernels.java [INTRA_OP_THREADS]
//   (run it again with LD_PRELOAD or MKL_* variables in front to compare library settings; docs/decode-profile.md)
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

public class LmHeadKernels {
    static void time(String name, Supplier<NDArray> op) {
        for (int i = 0; i < 5; i++) {
            try (NDScope s = new NDScope()) {
                s.suppressNotUsedWarning();
                op.get();
            }
        }
        int reps = 30;
        double sum = 0;
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            try (NDScope s = new NDScope()) {
                s.suppressNotUsedWarning();
                long t = System.nanoTime();
                op.get();
                double ms = (System.nanoTime() - t) / 1e6;
                sum += ms;
                best = Math.min(best, ms);
            }
        }
        System.out.printf("%-46s mean %7.2f ms  min %7.2f ms%n", name, sum / reps, best);
    }

    public static void main(String[] args) {
        try (NDManager m = NDManager.newBaseManager()) {
            if (args.length > 0) {
                JniUtils.setNumThreads(Integer.parseInt(args[0]));
            }
            int v = 128256;
            int h = 512;
            System.out.printf("libtorch intra-op threads %d, W (%d, %d) fp32 = %.0f MB%n", JniUtils.getNumThreads(), v, h, v * (double) h * 4 / 1e6);
            NDArray w = m.randomNormal(new Shape(v, h)); // (V, H)
            NDArray wt = w.transpose().duplicate(); // (H, V) contiguous
            NDArray x3 = m.randomNormal(new Shape(1, 1, h)); // (1, 1, H), as the decode step holds it
            NDArray x2 = x3.reshape(1, h);
            NDArray x1 = x3.reshape(h);
            NDArray col = x3.reshape(h, 1);
            NDArray x8 = m.randomNormal(new Shape(8, h));
            time("linear(x (1,1,H), W)   [what the model runs]", () -> Linear.linear(x3, w).singletonOrThrow());
            time("linear(x (1,H), W)", () -> Linear.linear(x2, w).singletonOrThrow());
            time("x (1,H) matMul W^T (a view)", () -> x2.matMul(w.transpose()));
            time("W matMul x (H,1)", () -> w.matMul(col));
            time("W matMul x (H) (matrix-vector)", () -> w.matMul(x1));
            time("x (1,H) matMul W^T (a contiguous copy)", () -> x2.matMul(wt));
            NDList parts = w.split(16);
            time("linear over 16 row blocks of W, concat", () -> {
                NDList out = new NDList();
                for (NDArray p : parts) {
                    out.add(Linear.linear(x2, p).singletonOrThrow());
                }
                return NDArrays.concat(out, 1);
            });
            time("linear(x (8,H), W)   [8 rows, one pass]", () -> Linear.linear(x8, w).singletonOrThrow());
            time("sum(W)   [reads the same 263 MB once]", w::sum);
        }
    }
}
