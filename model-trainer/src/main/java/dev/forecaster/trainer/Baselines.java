package dev.forecaster.trainer;

import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.WindowEncoder;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;

/** The forecasts a model must beat, on exactly the windows it is scored on. */
public final class Baselines {

  /**
   * Ridge added to the normal equations, relative to their diagonal: keeps collinear columns
   * solvable.
   */
  static final double RELATIVE_RIDGE = 1e-8;

  private Baselines() {}

  /** Tomorrow = today: the target's value at each window's last reading. */
  public static double[] persistence(List<Sample> samples) {
    return samples.stream().mapToDouble(Sample::baseValue).toArray();
  }

  /**
   * Ordinary least squares on the flattened window, fitted on the training windows: the same
   * inputs, transforms and scaling as the network, so the comparison is about the network alone.
   */
  public static double[] linear(ModelSpec spec, List<Sample> train, List<Sample> test) {
    WindowEncoder encoder = new WindowEncoder(spec);
    int k = encoder.floatsPerWindow() + 1; // + intercept
    double[][] xtx = new double[k][k];
    double[] xty = new double[k];
    float[] x = new float[encoder.floatsPerWindow()];
    double[] row = new double[k];
    for (Sample s : train) {
      fill(encoder, s, x, row);
      double y = encoder.networkTarget(s.baseValue(), s.actual());
      for (int i = 0; i < k; i++) {
        xty[i] += row[i] * y;
        for (int j = i; j < k; j++) {
          xtx[i][j] += row[i] * row[j];
        }
      }
    }
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < i; j++) {
        xtx[i][j] = xtx[j][i];
      }
      xtx[i][i] += RELATIVE_RIDGE * Math.max(1.0, xtx[i][i]);
    }
    RealMatrix a = new Array2DRowRealMatrix(xtx, false);
    RealVector beta =
        new CholeskyDecomposition(a, 1e-12, 1e-14)
            .getSolver()
            .solve(new ArrayRealVector(xty, false));
    double[] predicted = new double[test.size()];
    for (int n = 0; n < test.size(); n++) {
      Sample s = test.get(n);
      fill(encoder, s, x, row);
      double out = 0;
      for (int i = 0; i < k; i++) {
        out += beta.getEntry(i) * row[i];
      }
      predicted[n] = encoder.toRealUnits(s.baseValue(), out);
    }
    return predicted;
  }

  private static void fill(WindowEncoder encoder, Sample s, float[] x, double[] row) {
    encoder.encode(s.values(), s.epochDays(), x, 0);
    for (int i = 0; i < x.length; i++) {
      row[i] = x[i];
    }
    row[x.length] = 1.0;
  }
}
