package ai.loro.spark;

import picocli.CommandLine.Option;

/** The flags every {@code loro spark} job shares. */
final class JobOptions {
    @Option(names = "--input", required = true, paramLabel = "IN.jsonl", description = "Input JSON Lines file (a local path, or hdfs://, s3a://, …).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output folder; must not exist yet.")
    String output;

    @Option(names = "--master", defaultValue = "local[*]", paramLabel = "URL",
            description = "local[N] (embedded, in this JVM), yarn, k8s://https://host:port or spark://host:port"
                    + " (through spark-submit; needs SPARK_HOME). Default: ${DEFAULT-VALUE}.")
    String master;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Partitions (tasks); default: Spark's default parallelism. Results do not depend on it.")
    int partitions;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "parquet|jsonl", description = "Output files (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Rows per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--dry-run", description = "Print the spark-submit command line and exit.")
    boolean dryRun;

    @Option(names = "--submitted", hidden = true, description = "Set by spark-submit runs: the session comes from spark-submit.")
    boolean submitted;

    JobRunner.Settings settings() {
        return new JobRunner.Settings(input, output, partitions, format);
    }
}
