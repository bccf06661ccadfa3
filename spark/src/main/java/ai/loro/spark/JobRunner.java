package ai.loro.spark;

import ai.loro.core.LoroException;
import ai.loro.spark.kernel.Batches;
import ai.loro.spark.kernel.InputRow;
import ai.loro.spark.kernel.Kernel;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.util.Iterator;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Runs a kernel as a Spark job: the input's lines numbered ({@code row}), cut into partitions of whole batches
 * ({@link BatchPartitioner}) and sorted by row within each, the kernel over each partition in
 * {@code mapPartitions} (streaming, batch by batch), the output written to a hidden sibling folder and renamed to
 * {@code --output} when complete. An existing output is refused before anything runs.
 */
public final class JobRunner {
    private JobRunner() {}

    /** @param partitions 0 = Spark's default parallelism; @param format "parquet" or "jsonl" */
    public record Settings(String input, String output, int partitions, String format) implements Serializable {
        public Settings {
            if (partitions < 0) {
                throw new LoroException("--partitions must be >= 1, got " + partitions);
            }
            if (!format.equals("parquet") && !format.equals("jsonl")) {
                throw new LoroException("--format must be parquet or jsonl, got '" + format + "'");
            }
        }
    }

    /** What was written: the folder and the number of partitions. */
    public record Written(String output, int partitions, long inputLines) {}

    public static Written run(SparkSession spark, Kernel kernel, Settings s) {
        String in = uri(s.input());
        Path out = new Path(uri(s.output()));
        FileSystem fs;
        try {
            fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(out)) {
                throw new LoroException("--output " + s.output() + " already exists: a job never writes into an existing"
                        + " output (give a new folder, or delete this one)");
            }
            Path inPath = new Path(in);
            if (!inPath.getFileSystem(spark.sparkContext().hadoopConfiguration()).isFile(inPath)) {
                throw new LoroException("--input " + s.input() + ": file not found");
            }
        } catch (IOException e) {
            throw new LoroException("--output " + s.output() + ": " + e.getMessage(), e);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<String> lines = jsc.textFile(in);
        long count = lines.count();
        int partitions = s.partitions() > 0 ? s.partitions() : jsc.defaultParallelism();
        JavaPairRDD<Long, String> rows = lines.zipWithIndex()
                .filter(t -> !t._1().isBlank())
                .mapToPair(t -> new Tuple2<>(t._2(), t._1()));
        BatchPartitioner partitioner = new BatchPartitioner(partitions, kernel.rowsPerBatch(), count);
        JavaRDD<String> results = rows.repartitionAndSortWithinPartitions(partitioner)
                .mapPartitions(it -> Batches.run(kernel, inputRows(it)));
        Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp-" + UUID.randomUUID());
        boolean published = false;
        try {
            Dataset<String> json = spark.createDataset(results.rdd(), Encoders.STRING());
            if (s.format().equals("jsonl")) {
                json.write().text(tmp.toString());
            } else {
                StructType inputSchema = count == 0 ? new StructType() : spark.read().json(in).schema();
                spark.read().schema(OutputSchema.of(inputSchema, kernel.fields())).json(json).write().parquet(tmp.toString());
            }
            if (!fs.rename(tmp, out)) {
                throw new LoroException("--output " + s.output() + ": could not rename the finished output from " + tmp);
            }
            published = true;
        } catch (IOException e) {
            throw new LoroException("--output " + s.output() + ": " + e.getMessage(), e);
        } finally {
            if (!published) {
                try {
                    fs.delete(tmp, true);
                } catch (IOException e) {
                    // the failure that brought us here is the one to report
                }
            }
        }
        return new Written(s.output(), partitions, count);
    }

    private static Iterator<InputRow> inputRows(Iterator<Tuple2<Long, String>> it) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public InputRow next() {
                Tuple2<Long, String> t = it.next();
                return new InputRow(t._1(), t._2());
            }
        };
    }

    /** A path with a scheme as it is; a plain path as an absolute file URI. */
    static String uri(String path) {
        try {
            URI u = new URI(path);
            if (u.getScheme() != null && u.getScheme().length() > 1) {
                return path;
            }
        } catch (java.net.URISyntaxException e) {
            // a plain local path with characters URIs do not allow
        }
        return java.nio.file.Path.of(path).toAbsolutePath().normalize().toUri().toString();
    }
}
