package ai.loro.spark;

import org.apache.spark.sql.SparkSession;

/**
 * Spark sessions for Loro's jobs. Embedded ({@code local[N]}: N task threads in this JVM) binds to the loopback
 * address and runs without the web UI; every session has speculative execution off (a duplicated generation task
 * is pure cost), and the JVM needs Spark's {@code --add-opens} list (the launcher and surefire pass it).
 */
public final class Sessions {
    private Sessions() {}

    public static SparkSession embedded(String master, String app) {
        return SparkSession.builder().master(master).appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.speculation", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    /** Under spark-submit: the master and the rest come from its command line. */
    public static SparkSession submitted(String app) {
        return SparkSession.builder().appName(app).config("spark.speculation", "false").getOrCreate();
    }
}
