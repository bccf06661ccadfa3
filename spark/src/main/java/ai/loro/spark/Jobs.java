package ai.loro.spark;

import ai.loro.core.LoroException;
import ai.loro.spark.kernel.Kernel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.launcher.SparkLauncher;
import org.apache.spark.sql.SparkSession;

/** Where a job runs: embedded {@code local[N]} in this JVM, or on a cluster through spark-submit. */
final class Jobs {
    private Jobs() {}

    /** System property: a file listing Loro's runtime jars (no Spark), one class path line; the launcher sets it. */
    static final String SUBMIT_JARS = "loro.spark.submitJars";

    static int execute(String job, Kernel kernel, JobOptions o, List<String> originalArgs, PrintWriter out) {
        JobRunner.Settings settings = o.settings();
        if (o.submitted) {
            SparkSession spark = Sessions.submitted("loro spark " + job);
            report(out, JobRunner.run(spark, kernel, settings));
            return 0;
        }
        boolean local = o.master.startsWith("local");
        if (o.dryRun || !local) {
            SubmitLine line = submitLine(job, o, originalArgs);
            if (o.dryRun) {
                out.println(line.line());
                return 0;
            }
            return launch(line, out);
        }
        // a session already open in this JVM (tests, a pipeline running several jobs) is used and left open
        scala.Option<SparkSession> open = SparkSession.getDefaultSession();
        SparkSession spark = open.isDefined() ? open.get() : Sessions.embedded(o.master, "loro spark " + job);
        try {
            report(out, JobRunner.run(spark, kernel, settings));
        } finally {
            if (!open.isDefined()) {
                spark.stop();
            }
        }
        return 0;
    }

    private static void report(PrintWriter out, JobRunner.Written w) {
        out.println("wrote " + w.output() + " (" + w.inputLines() + " input lines, " + w.partitions() + " partitions)");
    }

    static SubmitLine submitLine(String job, JobOptions o, List<String> originalArgs) {
        String home = System.getenv("SPARK_HOME");
        if (home == null || home.isBlank()) {
            home = o.dryRun ? SubmitLine.UNSET_HOME : null;
        }
        if (home == null) {
            throw new LoroException("--master " + o.master + " runs through spark-submit: set SPARK_HOME to a Spark 4.2"
                    + " distribution (or use --master local[N] to run in this JVM)");
        }
        List<String> args = new ArrayList<>(); // originalArgs starts with the job's name
        for (int i = 0; i < originalArgs.size(); i++) {
            String a = originalArgs.get(i);
            if (a.equals("--master")) {
                i++;
            } else if (!a.startsWith("--master=") && !a.equals("--dry-run")) {
                args.add(a);
            }
        }
        args.add("--submitted");
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.speculation", "false");
        conf.put("spark.executor.extraJavaOptions", "-Dai.djl.offline=true");
        return new SubmitLine(home, o.master, appJar(), dependencyJars(), conf, args);
    }

    private static String appJar() {
        try {
            return Path.of(Jobs.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new LoroException("cannot locate Loro's spark jar: " + e.getMessage());
        }
    }

    private static List<String> dependencyJars() {
        String file = System.getProperty(SUBMIT_JARS);
        if (file == null) {
            throw new LoroException("spark-submit needs the list of Loro's jars: run through ./loro (it sets -D" + SUBMIT_JARS + ")");
        }
        try {
            List<String> jars = new ArrayList<>();
            for (String j : Files.readString(Path.of(file)).trim().split(java.io.File.pathSeparator)) {
                if (!j.isBlank()) {
                    jars.add(j);
                }
            }
            return jars;
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read the jar list (" + e.getMessage() + "); rebuild with ./loro");
        }
    }

    private static int launch(SubmitLine line, PrintWriter out) {
        SparkLauncher l = new SparkLauncher().setSparkHome(line.sparkHome()).setMaster(line.master())
                .setMainClass(SubmitLine.MAIN_CLASS).setAppResource(line.appJar())
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
        line.conf().forEach(l::setConf);
        line.jars().forEach(l::addJar);
        l.addAppArgs(line.appArgs().toArray(new String[0]));
        try {
            Process p = l.launch();
            int code = p.waitFor();
            if (code != 0) {
                throw new LoroException("spark-submit exited with " + code + " (its log is above)");
            }
            return 0;
        } catch (IOException e) {
            throw new LoroException("cannot start spark-submit from SPARK_HOME=" + line.sparkHome() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LoroException("interrupted while waiting for spark-submit");
        }
    }
}
