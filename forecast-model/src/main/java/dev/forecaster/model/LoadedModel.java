package dev.forecaster.model;

import ai.djl.Model;

/**
 * A model in native memory, ready to predict. Share one per JVM; give each thread its own
 * {@link BatchedPredictor} ({@link #newPredictor()}); close the model after its predictors.
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

  /** A predictor for the calling thread: predictors are not thread-safe. */
  public BatchedPredictor newPredictor() {
    return new BatchedPredictor(this);
  }

  @Override
  public void close() {
    model.close();
  }
}
