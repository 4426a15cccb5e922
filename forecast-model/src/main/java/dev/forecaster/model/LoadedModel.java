package dev.forecaster.model;

import ai.djl.Model;
import java.util.Collection;
import java.util.List;

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

  /** Fails when a reading source does not carry every feature this model reads. */
  public void requireFeatures(Collection<String> available) throws ModelArtifactException {
    List<String> missing = spec.features().stream().filter(f -> !available.contains(f)).toList();
    if (!missing.isEmpty()) {
      throw new ModelArtifactException(
          "model " + spec.name() + " v" + spec.version() + " reads " + missing + ", which the readings lack (they have "
              + available + ")");
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
