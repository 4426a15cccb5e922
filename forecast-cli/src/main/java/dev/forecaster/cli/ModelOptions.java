package dev.forecaster.cli;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowPolicy;
import dev.forecaster.trainer.TrainingPreset;
import dev.forecaster.trainer.TrainingSettings;
import java.time.LocalDate;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The model and training flags, shared by {@code train} (one round) and {@code trainer} (the
 * service): a preset sets every default, each flag overrides one.
 */
public final class ModelOptions {

  @Option(
      names = "--model-name",
      paramLabel = "NAME",
      description = "Model name on the models topic (default: the preset's or the target's).")
  String modelName;

  @Option(
      names = "--target",
      paramLabel = "FEATURE",
      description = "Feature to forecast (default: the preset's).")
  String target;

  @Option(
      names = "--model-features",
      paramLabel = "A,B",
      split = ",",
      description = "Features the model reads (default: the preset's, else --features).")
  List<String> modelFeatures;

  @Option(names = "--arch", paramLabel = "gru|lstm", description = "Recurrent cell.")
  String arch;

  @Option(names = "--window", paramLabel = "N", description = "Readings per window.")
  Integer window;

  @Option(
      names = "--horizon",
      paramLabel = "N",
      defaultValue = "1",
      description = "Readings ahead to forecast (default: ${DEFAULT-VALUE}).")
  int horizon;

  @Option(names = "--hidden", paramLabel = "N", description = "Hidden units per layer.")
  Integer hidden;

  @Option(
      names = "--layers",
      paramLabel = "N",
      defaultValue = "1",
      description = "Recurrent layers (default: ${DEFAULT-VALUE}).")
  int layers;

  @Option(
      names = "--dropout",
      paramLabel = "P",
      defaultValue = "0",
      description = "Dropout between recurrent layers (default: ${DEFAULT-VALUE}).")
  float dropout;

  @Option(
      names = "--members",
      paramLabel = "N",
      description = "Networks trained from successive seeds and averaged.")
  Integer members;

  @Option(
      names = "--calendar",
      negatable = true,
      description = "Day of year (sin, cos) as an input.")
  Boolean calendar;

  @Option(
      names = "--input-transform",
      paramLabel = "T",
      description = "level, change or log-change.")
  String inputTransform;

  @Option(
      names = "--target-transform",
      paramLabel = "T",
      description = "level, change or log-change.")
  String targetTransform;

  @Option(names = "--epochs", paramLabel = "N", description = "Most epochs per member.")
  Integer epochs;

  @Option(names = "--lr", paramLabel = "RATE", description = "Adam learning rate.")
  Double learningRate;

  @Option(names = "--batch-size", paramLabel = "N", description = "Windows per training step.")
  Integer batchSize;

  @Option(
      names = "--patience",
      paramLabel = "N",
      description = "Early stopping: epochs without a better validation loss; 0 = off.")
  Integer patience;

  @Option(
      names = "--loss",
      paramLabel = "mse|mae",
      description = "Training loss on the scaled target: mse or mae.")
  String loss;

  @Option(
      names = "--weight-decay",
      paramLabel = "L2",
      description = "Adam weight decay (L2 on the weights).")
  Double weightDecay;

  @Option(
      names = "--bias-correction",
      negatable = true,
      description =
          "Shift forecasts by the model's error on the validation windows, just before the test"
              + " part.")
  Boolean biasCorrection;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "42",
      description = "Seed of initialisation and shuffling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--gap-max-days",
      paramLabel = "N",
      defaultValue = "" + WindowPolicy.DEFAULT_MAX_GAP_DAYS,
      description =
          "Readings further apart are a gap that windows do not span, as in the job's gap.max-days"
              + " (default: ${DEFAULT-VALUE}).")
  int gapMaxDays;

  @Option(
      names = "--gap-policy",
      paramLabel = "reset|carry-forward",
      defaultValue = "reset",
      converter = GapPolicyConverter.class,
      description =
          "After a gap a window starts anew, or the last reading fills the missing days, as in the"
              + " job's gap.policy (default: ${DEFAULT-VALUE}).")
  WindowPolicy.GapPolicy gapPolicy;

  /** Reads a gap policy as the job's settings write it. */
  static final class GapPolicyConverter implements ITypeConverter<WindowPolicy.GapPolicy> {
    @Override
    public WindowPolicy.GapPolicy convert(String value) {
      for (WindowPolicy.GapPolicy p : WindowPolicy.GapPolicy.values()) {
        if (p.toString().equalsIgnoreCase(value.strip())) {
          return p;
        }
      }
      throw new TypeConversionException("reset or carry-forward, not '" + value + "'");
    }
  }

  @Option(
      names = "--test-from",
      paramLabel = "DAY",
      description = "First test target day (default: the last 20%% of windows).")
  LocalDate testFrom;

  /** First test target day, or null for the last 20% of windows. */
  public LocalDate testFrom() {
    return testFrom;
  }

  /**
   * The model to train, unfitted.
   *
   * @param presetNamed whether a preset was named (its model name, target and features apply)
   * @param csvFeatures the CSV's feature columns, the fallback for the model's inputs; may be null
   * @throws IllegalArgumentException naming the flag that is missing or wrong
   */
  public ModelSpec template(TrainingPreset preset, boolean presetNamed, List<String> csvFeatures) {
    Architecture cell = arch != null ? Architecture.named(arch) : Architecture.GRU;
    ModelSpec d = preset.spec(cell);
    List<String> features =
        modelFeatures != null ? modelFeatures : presetNamed ? d.features() : csvFeatures;
    if (features == null) {
      throw new IllegalArgumentException(
          "name the model's features: --model-features or --features (or use a --preset)");
    }
    String targetFeature = target != null ? target : presetNamed ? d.target() : null;
    if (targetFeature == null) {
      throw new IllegalArgumentException("name the feature to forecast: --target");
    }
    ModelSpec.Builder b =
        d.toBuilder()
            .name(modelName != null ? modelName : presetNamed ? d.name() : targetFeature)
            .features(features)
            .target(targetFeature)
            .layers(layers)
            .dropout(dropout)
            .horizon(horizon);
    if (hidden != null) {
      b.hiddenSize(hidden);
    }
    if (members != null) {
      b.members(members);
    }
    if (calendar != null) {
      b.calendar(calendar);
    }
    if (inputTransform != null) {
      b.inputTransform(ValueTransform.named(inputTransform));
    }
    if (targetTransform != null) {
      b.targetTransform(ValueTransform.named(targetTransform));
    }
    if (window != null) {
      b.windowLength(window);
    }
    return b.build();
  }

  /** The training settings: the preset's, with every given flag applied. */
  public TrainingSettings settings(TrainingPreset preset) {
    TrainingSettings d = preset.settings();
    return TrainingSettings.builder()
        .epochs(or(epochs, d.epochs()))
        .learningRate(or(learningRate, d.learningRate()))
        .batchSize(or(batchSize, d.batchSize()))
        .patience(or(patience, d.patience()))
        .seed(seed)
        .loss(loss != null ? TrainingSettings.Loss.named(loss) : d.loss())
        .weightDecay(or(weightDecay, d.weightDecay()))
        .biasCorrection(or(biasCorrection, d.biasCorrection()))
        .build();
  }

  /** Which readings make windows: the job's policy, with the gap flags applied. */
  public WindowPolicy windowPolicy() {
    return new WindowPolicy(gapMaxDays, gapPolicy);
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }
}
