package dev.sparkvit.jobs.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The probe's solver reaches the optimum scikit-learn reaches on the same objective. The fixture
 * ({@code probe/digits-pooled}, written by tools/probe/make_probe_fixture.py) holds real features: a sparkvit
 * encoder's pooled output on the digits images, whose means are about 90 times their spread, the case where MLlib's
 * own scaling without centring stopped at 200 iterations far from the optimum.
 */
@ExtendWith(SharedSpark.class)
class CentredLogisticRegressionTest {
    private static final StructType SCHEMA = new StructType().add("label", DataTypes.DoubleType, false)
            .add("features", SQLDataTypes.VectorType(), false);

    @Test
    void matchesScikitLearnOnRealEncoderFeatures() throws IOException {
        JsonNode info = new ObjectMapper().readTree(resource("fixture.json"));
        int dim = info.get("dim").asInt();
        int train = info.get("train").asInt();
        int val = info.get("val").asInt();
        ByteBuffer values = ByteBuffer.wrap(resource("features.bin").readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
        byte[] labels = resource("labels.bin").readAllBytes();
        List<Row> trainRows = new ArrayList<>();
        List<Row> valRows = new ArrayList<>();
        for (int i = 0; i < train + val; i++) {
            double[] v = new double[dim];
            for (int d = 0; d < dim; d++) {
                v[d] = values.getFloat();
            }
            (i < train ? trainRows : valRows).add(RowFactory.create((double) labels[i], Vectors.dense(v)));
        }

        CentredLogisticRegression.Fit fit = CentredLogisticRegression.fit(rows(trainRows), "features",
                info.get("reg").asDouble());

        double sklearn = info.get("sklearn_val_accuracy").asDouble();
        double ours = fit.accuracy(rows(valRows));
        assertTrue(fit.converged(), fit.convergence());
        assertEquals(sklearn, ours, 0.01, "val accuracy: scikit-learn " + sklearn + ", sparkvit " + ours + " ("
                + fit.convergence() + ")");
    }

    @Test
    void rawWeightsGiveTheFitsPredictions() {
        Random random = new Random(3);
        List<Row> rows = new ArrayList<>();
        double[] offset = {50, -20, 0, 7};
        double[] spread = {0.01, 2, 0, 0.5}; // feature 2 is constant; class c shifts feature 0, 1 or 3
        for (int i = 0; i < 300; i++) {
            int label = i % 3;
            double[] v = new double[4];
            for (int d = 0; d < 4; d++) {
                v[d] = offset[d] + spread[d] * (random.nextGaussian() + (d == (label == 2 ? 3 : label) ? 3 : 0));
            }
            rows.add(RowFactory.create((double) label, Vectors.dense(v)));
        }
        Dataset<Row> data = rows(rows);
        CentredLogisticRegression.Fit fit = CentredLogisticRegression.fit(data, "features", 1e-3);
        float[][] raw = fit.rawWeightAndBias(4); // a fourth class the data never shows keeps zeros
        assertEquals(0f, raw[1][3]);
        List<Row> predicted = fit.predict(data).select("features", "prediction", "rawPrediction").collectAsList();
        for (Row r : predicted) {
            Vector x = r.getAs(0);
            Vector margins = r.getAs(2);
            for (int c = 0; c < 3; c++) {
                double logit = raw[1][c];
                for (int d = 0; d < 4; d++) {
                    logit += raw[0][c * 4 + d] * x.apply(d);
                }
                assertEquals(margins.apply(c), logit, 1e-3 * Math.max(1, Math.abs(logit)), "class " + c + " at " + x);
            }
        }
        assertTrue(fit.accuracy(data) > 0.9, "well separated classes: " + fit.accuracy(data));
    }

    private static Dataset<Row> rows(List<Row> rows) {
        return SharedSpark.session().createDataFrame(rows, SCHEMA).repartition(1);
    }

    private static InputStream resource(String name) {
        return CentredLogisticRegressionTest.class.getResourceAsStream("/probe/digits-pooled/" + name);
    }
}
