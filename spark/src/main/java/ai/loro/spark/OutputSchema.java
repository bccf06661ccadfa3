package ai.loro.spark;

import ai.loro.spark.kernel.Field;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The Parquet schema of a job's output: the input's fields (as Spark infers them), {@code row}, the job's fields. */
final class OutputSchema {
    private OutputSchema() {}

    static StructType of(StructType input, List<Field> jobFields) {
        List<StructField> fields = new ArrayList<>();
        for (StructField f : input.fields()) {
            if (!f.name().equals("row") && !f.name().equals("_corrupt_record")) {
                fields.add(f);
            }
        }
        fields.add(DataTypes.createStructField("row", DataTypes.LongType, false));
        for (Field f : jobFields) {
            StructField sf = DataTypes.createStructField(f.name(), sparkType(f.type()), true);
            int at = indexOf(fields, f.name());
            if (at >= 0) {
                fields.set(at, sf); // the job's value replaces an input field of the same name (e.g. input_ids)
            } else {
                fields.add(sf);
            }
        }
        return DataTypes.createStructType(fields);
    }

    private static int indexOf(List<StructField> fields, String name) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    static DataType sparkType(Field.Type t) {
        return switch (t) {
            case LONG -> DataTypes.LongType;
            case DOUBLE -> DataTypes.DoubleType;
            case FLOAT -> DataTypes.FloatType;
            case STRING -> DataTypes.StringType;
            case BOOLEAN -> DataTypes.BooleanType;
            case LONG_ARRAY -> DataTypes.createArrayType(DataTypes.LongType, false);
            case FLOAT_ARRAY -> DataTypes.createArrayType(DataTypes.FloatType, false);
            case DOUBLE_ARRAY -> DataTypes.createArrayType(DataTypes.DoubleType, false);
        };
    }
}
