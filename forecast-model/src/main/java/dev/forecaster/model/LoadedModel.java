package dev.forecaster.model;

import ai.djl.Model;

/**
 * A model in native memory, ready to predict. Share one per JVM; give each thread its own {@link
 * BatchedPredictor} ({@link #newPredictor()}); close the model after its predictors.
 */
public final class LoadedModel implements AutoCloseable {

  private final Model model;
  private final ModelSpec spec;
  private final WindowEncoder encoder;

  /** Wraps a DJL model whose block is the network of {@code spec} (trained or loaded). */
  public LoadedModel(Model model, ModelSpec spec) {
    this.model = model;
    this.spec = spec;
    this.encoder = new WindowEncoder(spec);
  }

  public ModelSpec spec() {
    return spec;
  }

  public WindowEncoder encoder() {
    return encoder;
  }

  Model djlModel() {
    return model;
  }

  /**
   * The same network under a spec that differs only in what describes it (version, settings,
   * metrics). The returned model takes over this one's native memory: close it instead of this.
   */
  public LoadedModel describedAs(ModelSpec described) {
    if (!sameNetwork(spec, described)) {
      throw new IllegalArgumentException("the spec describes another network than the model's");
    }
    return new LoadedModel(model, described);
  }

  /** Whether two specs differ in nothing but their version, settings, metrics and intervals. */
  static boolean sameNetwork(ModelSpec a, ModelSpec b) {
    return a
        .withVersion(b.version(), b.createdAtMillis())
        .withMetrics(b.training(), b.trainingMetrics(), b.backtestMetrics())
        .toBuilder()
        .intervals(b.intervals())
        .calibrationResiduals(b.calibrationResiduals())
        .laterIntervals(b.laterIntervals())
        .laterCalibrationResiduals(b.laterCalibrationResiduals())
        .build()
        .equals(b);
  }

  /** A predictor for the calling thread: predictors are not thread-safe. */
  public BatchedPredictor newPredictor() {
    return new BatchedPredictor(this);
  }

  @Override
  public void close() {
    model.close();
  }
}
