package dev.forecaster.trainer;

import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowEncoder;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealVector;

/**
 * Least squares on the encoded window (the scaled, transformed inputs the network reads), with an
 * intercept, in closed form: the least-squares baseline, and a model's highway. The ridge is
 * relative to each column's own sum of squares (inputs are standardised, so it is about a share of
 * the windows); the intercept is not shrunk.
 */
final class LinearFit {

  /** Just enough ridge to keep collinear columns solvable: ordinary least squares. */
  static final double OLS = 1e-8;

  private final WindowEncoder encoder;
  private final double[] beta;

  private LinearFit(WindowEncoder encoder, double[] beta) {
    this.encoder = encoder;
    this.beta = beta;
  }

  /** Fits the spec's encoding of {@code train} (the spec has its scaling) to the scaled target. */
  static LinearFit fit(ModelSpec spec, List<Sample> train, double ridge) {
    return fit(spec, train, List.of(ridge)).get(0);
  }

  /** One fit per ridge, from the normal equations of {@code train} built once. */
  static List<LinearFit> fit(ModelSpec spec, List<Sample> train, List<Double> ridges) {
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
    List<LinearFit> fits = new ArrayList<>();
    for (double ridge : ridges) {
      double[][] a = new double[k][k];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          a[i][j] = j >= i ? xtx[i][j] : xtx[j][i];
        }
        a[i][i] += (i == k - 1 ? OLS : Math.max(OLS, ridge)) * Math.max(1.0, xtx[i][i]);
      }
      RealVector solved =
          new CholeskyDecomposition(new Array2DRowRealMatrix(a, false), 1e-12, 1e-14)
              .getSolver()
              .solve(new ArrayRealVector(xty, false));
      fits.add(new LinearFit(encoder, solved.toArray()));
    }
    return fits;
  }

  /**
   * Persistence as a fit of {@code spec} (which has its scaling): every coefficient zero, the
   * intercept at the scaled value of no change.
   *
   * @throws IllegalArgumentException for a level target (no linear form of it is the last reading)
   */
  static LinearFit noChange(ModelSpec spec) {
    if (spec.targetTransform() == ValueTransform.LEVEL) {
      throw new IllegalArgumentException(
          "persistence as a fit needs a change target; " + spec.name() + " forecasts a level");
    }
    WindowEncoder encoder = new WindowEncoder(spec);
    double[] beta = new double[encoder.floatsPerWindow() + 1];
    beta[beta.length - 1] = encoder.networkTarget(1.0, 1.0); // a change of nothing, scaled
    return new LinearFit(encoder, beta);
  }

  WindowEncoder encoder() {
    return encoder;
  }

  /** The coefficients over the encoded window, the intercept last (a highway's weights). */
  double[] coefficients() {
    return beta.clone();
  }

  /** The fit's output for a window, in the network's scaled units. */
  double scaled(Sample s) {
    float[] x = new float[encoder.floatsPerWindow()];
    double[] row = new double[beta.length];
    fill(encoder, s, x, row);
    double out = 0;
    for (int i = 0; i < beta.length; i++) {
      out += beta[i] * row[i];
    }
    return out;
  }

  /** Forecasts in real units. */
  double[] predict(List<Sample> samples) {
    double[] predicted = new double[samples.size()];
    for (int n = 0; n < samples.size(); n++) {
      Sample s = samples.get(n);
      predicted[n] = encoder.toRealUnits(s.baseValue(), scaled(s));
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
