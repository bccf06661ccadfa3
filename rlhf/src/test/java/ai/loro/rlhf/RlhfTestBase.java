package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

abstract class RlhfTestBase {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    static NDArray d(int b, int t, double... v) {
        return m.create(v, new Shape(b, t));
    }

    static NDArray mask(int b, int t, long... v) {
        return m.create(v, new Shape(b, t));
    }
}
