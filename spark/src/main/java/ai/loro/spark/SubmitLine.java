package ai.loro.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The spark-submit command of a job on a cluster master (yarn, k8s://…, spark://…): Loro's jar as the
 * application, its dependencies (Spark excluded: the cluster has it) in {@code --jars}, speculation off, and the
 * job's own arguments with {@code --submitted} so the driver takes its master from spark-submit.
 */
public record SubmitLine(String sparkHome, String master, String appJar, List<String> jars, Map<String, String> conf,
                         List<String> appArgs) {
    public static final String MAIN_CLASS = "ai.loro.spark.SparkMain";
    /** The Spark home written into a --dry-run line when SPARK_HOME is not set. */
    public static final String UNSET_HOME = "$SPARK_HOME";

    public List<String> command() {
        List<String> c = new ArrayList<>();
        c.add(sparkHome + "/bin/spark-submit");
        c.add("--master");
        c.add(master);
        c.add("--class");
        c.add(MAIN_CLASS);
        conf.forEach((k, v) -> {
            c.add("--conf");
            c.add(k + "=" + v);
        });
        if (!jars.isEmpty()) {
            c.add("--jars");
            c.add(String.join(",", jars));
        }
        c.add(appJar);
        c.addAll(appArgs);
        return c;
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=,@%+\\[\\]-]+");

    /** The command as one shell line (single-quoted where a word needs it). */
    public String line() {
        List<String> words = new ArrayList<>();
        List<String> command = command();
        for (int i = 0; i < command.size(); i++) {
            String w = command.get(i);
            if (i == 0 && sparkHome.equals(UNSET_HOME)) {
                words.add("\"" + w + "\""); // SPARK_HOME unset here: the shell that runs the line expands it
            } else {
                words.add(PLAIN.matcher(w).matches() ? w : "'" + w.replace("'", "'\\''") + "'");
            }
        }
        return String.join(" ", words);
    }
}
