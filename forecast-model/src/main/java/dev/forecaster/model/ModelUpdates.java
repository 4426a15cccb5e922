package dev.forecaster.model;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.ScalerStat;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Between a model and its {@code ModelUpdate} record on the {@code models} topic: the trainer
 * publishes with {@link #of}, the job and the trainer's champion check load with {@link #load}.
 */
public final class ModelUpdates {

  /** Scaler name of the network target, beside the input features' own names. */
  public static final String TARGET_SCALER_PREFIX = "target:";

  private ModelUpdates() {}

  /** The update that publishes an artifact; the record's metadata is copied from its spec. */
  public static ModelUpdate of(ModelSpec spec, byte[] artifact) {
    Map<String, String> hyper = new LinkedHashMap<>(spec.training());
    hyper.put("hiddenSize", Integer.toString(spec.hiddenSize()));
    hyper.put("layers", Integer.toString(spec.layers()));
    hyper.put("dropout", Float.toString(spec.dropout()));
    hyper.put("members", Integer.toString(spec.members()));
    hyper.put("calendar", Boolean.toString(spec.calendar()));
    hyper.put("weekday", Boolean.toString(spec.weekday()));
    hyper.put("highway", Boolean.toString(spec.highway()));
    hyper.put("inputTransform", spec.inputTransform().wireName());
    List<ScalerStat> scalers = new ArrayList<>();
    double[] mean = spec.scaling().inputMean();
    double[] std = spec.scaling().inputStd();
    for (int i = 0; i < mean.length; i++) {
      scalers.add(new ScalerStat(spec.features().get(i), mean[i], std[i]));
    }
    scalers.add(
        new ScalerStat(
            TARGET_SCALER_PREFIX + spec.target(),
            spec.scaling().targetMean(),
            spec.scaling().targetStd()));
    return ModelUpdate.newBuilder()
        .setModelName(spec.name())
        .setVersion(spec.version())
        .setArchitecture(spec.architecture().wireName())
        .setHyperParameters(hyper)
        .setFeatures(spec.features())
        .setTarget(spec.target())
        .setTargetTransform(spec.targetTransform().wireName())
        .setWindowLength(spec.windowLength())
        .setHorizon(spec.horizon())
        .setScalers(scalers)
        .setTrainingMetrics(spec.trainingMetrics())
        .setBacktestMetrics(spec.backtestMetrics())
        .setSha256(ModelArtifact.sha256(artifact))
        .setArtifact(ByteBuffer.wrap(artifact))
        .setArtifactUri(null)
        .setCreatedAt(Instant.ofEpochMilli(spec.createdAtMillis()))
        .build();
  }

  /** The artifact bytes an update carries inline. */
  public static byte[] artifactBytes(ModelUpdate update) throws ModelArtifactException {
    ByteBuffer inline = update.getArtifact();
    if (inline == null) {
      throw new ModelArtifactException(
          "model "
              + update.getModelName()
              + " v"
              + update.getVersion()
              + " has no inline artifact"
              + (update.getArtifactUri() != null ? " (only " + update.getArtifactUri() + ")" : ""));
    }
    ByteBuffer copy = inline.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /**
   * Loads the model an update carries: verifies the artifact's checksum, then that the record
   * describes the artifact (name, version, features and their order, target, window, horizon).
   */
  public static LoadedModel load(ModelUpdate update, Device device) throws ModelArtifactException {
    byte[] bytes = artifactBytes(update);
    ModelSpec spec = ModelArtifact.readSpec(bytes, update.getSha256());
    requireSame("model name", update.getModelName(), spec.name());
    requireSame("version", update.getVersion(), spec.version());
    requireSame("features", update.getFeatures(), spec.features());
    requireSame("target", update.getTarget(), spec.target());
    requireSame("window length", update.getWindowLength(), spec.windowLength());
    requireSame("horizon", update.getHorizon(), spec.horizon());
    return ModelArtifact.load(bytes, update.getSha256(), device);
  }

  private static void requireSame(String what, Object inRecord, Object inArtifact)
      throws ModelArtifactException {
    if (!Objects.equals(inRecord, inArtifact)) {
      throw new ModelArtifactException(
          "the update's "
              + what
              + " ("
              + inRecord
              + ") is not its artifact's ("
              + inArtifact
              + ")");
    }
  }
}
