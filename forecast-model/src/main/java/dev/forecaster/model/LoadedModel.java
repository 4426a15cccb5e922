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
  private Model serving;

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
    LoadedModel same = new LoadedModel(model, described);
    synchronized (this) { // the fused form, if built, computes the same network: it moves too
      same.serving = serving;
      serving = null;
    }
    return same;
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

  /**
   * Networks (members × horizons) from which the fused pass is the faster: measured with {@code
   * bench scoring} (docs/BENCHMARKS.md), one network runs faster as PyTorch's own recurrent layer,
   * two tie, four run 2.0× as fast fused at batch 1 and 1.5× at batch 256.
   */
  static final int FUSED_FROM_NETWORKS = 4;

  /**
   * Batches up to this many windows run fused; larger ones run the networks one by one. On a CPU,
   * with the weather preset's 70 networks and glibc's thresholds set, fused is 26× as fast at batch
   * 1, 2.1-2.4× at 256, 1.2× at 512, 0.9-1.0× at 768, 0.8-0.9× at 1,024 and 0.7-0.8× at 2,048 (its
   * (networks, batch, units) tensors outgrow the caches; bench scoring --batch N,
   * docs/BENCHMARKS.md). On a GPU this is not measured.
   */
  static final int FUSED_UP_TO_WINDOWS = 512;

  /**
   * A predictor for the calling thread: predictors are not thread-safe. From {@link
   * #FUSED_FROM_NETWORKS} networks on it runs batches of up to {@link #FUSED_UP_TO_WINDOWS} windows
   * fused ({@link FusedNetwork}: one pass computes every member of every horizon), larger ones
   * network by network.
   */
  public BatchedPredictor newPredictor() {
    return servesFused()
        ? new BatchedPredictor(this, serving(), model, FUSED_UP_TO_WINDOWS)
        : newUnfusedPredictor();
  }

  /** Whether {@link #newPredictor()} runs the networks fused (for small batches). */
  private boolean servesFused() {
    return spec.members() * spec.horizons() >= FUSED_FROM_NETWORKS;
  }

  /** A predictor that runs the networks fused, whatever their number; for comparison. */
  public BatchedPredictor newFusedPredictor() {
    return new BatchedPredictor(this, serving());
  }

  /**
   * A predictor that runs the networks one after another, as trained: the same forecasts; for
   * comparison.
   */
  public BatchedPredictor newUnfusedPredictor() {
    return new BatchedPredictor(this, model);
  }

  /** The fused form (built on first use): weights copied from the network as it is then. */
  synchronized Model serving() {
    if (serving == null) {
      serving = FusedNetwork.serving(spec, model.getBlock(), model.getNDManager().getDevice());
    }
    return serving;
  }

  @Override
  public synchronized void close() {
    if (serving != null) {
      serving.close();
    }
    model.close();
  }
}
