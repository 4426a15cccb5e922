package dev.forecaster.cli;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowPolicy;
import dev.forecaster.trainer.RetrainSchedule;
import dev.forecaster.trainer.Selection;
import dev.forecaster.trainer.TrainingPreset;
import dev.forecaster.trainer.TrainingSettings;
import java.time.Duration;
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
      description = "Readings ahead of the first forecast (default: ${DEFAULT-VALUE}).")
  int horizon;

  @Option(
      names = "--horizons",
      paramLabel = "H",
      description =
          "Forecasts per window: the next H readings, one network each, scored in one forward"
              + " pass (default: the preset's, else 1).")
  Integer horizons;

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
      names = "--weekday",
      negatable = true,
      description = "Day of the week (sin, cos) as an input.")
  Boolean weekday;

  @Option(
      names = "--highway",
      negatable = true,
      description =
          "Add a linear autoregression over the window to the networks, which then forecast its"
              + " correction (a search always does).")
  Boolean highway;

  @Option(
      names = "--ridge",
      paramLabel = "R",
      description =
          "Shrinkage of the highway's least squares, relative to each input's sum of squares.")
  Double ridge;

  @Option(
      names = "--search",
      negatable = true,
      description =
          "Choose transform, calendar inputs, window, ridge and size on the history before the test"
              + " part (default: without a preset). Flags given fix their part of the search.")
  Boolean search;

  @Option(
      names = "--budget",
      paramLabel = "DURATION",
      defaultValue = "150s",
      description =
          "What the search and the final training may cost together, in seconds of the"
              + " reference machine (counted from the epochs and windows trained, not by the"
              + " clock; `forecast bench training-cost` compares this machine): 150s, 3m (default:"
              + " ${DEFAULT-VALUE}). Networks the budget leaves no time for are not tried; the"
              + " final model gets fewer members (each trains once per horizon and fold). In a"
              + " search (without a preset, or with --search), 0s tries closed forms only (least"
              + " squares, drift, persistence: seconds).")
  String budget;

  @Option(
      names = "--folds",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Rolling-origin backtest: the test period in N parts, each forecast by a model trained on"
              + " everything before it; metrics per fold and pooled (default: ${DEFAULT-VALUE}).")
  int folds;

  @Option(
      names = "--input-transform",
      paramLabel = "T",
      description = "level, change or log-change.")
  String inputTransform;

  @Option(
      names = "--target-transform",
      paramLabel = "T",
      description = "level, change or log-change (inputs alike unless --input-transform).")
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

  /** Networks averaged in a model trained without a preset. */
  static final int DEFAULT_MEMBERS = 5;

  /**
   * The model to train, unfitted: the preset's, or without one a GRU reading the CSV's features,
   * with every given flag applied.
   *
   * @param preset the preset named, or null
   * @param csvFeatures the CSV's feature columns, the fallback for the model's inputs; may be null
   * @throws IllegalArgumentException naming the flag that is missing or wrong
   */
  public ModelSpec template(TrainingPreset preset, List<String> csvFeatures) {
    Architecture cell = arch != null ? Architecture.named(arch) : Architecture.GRU;
    ModelSpec d = preset != null ? preset.spec(cell) : null;
    List<String> features =
        modelFeatures != null ? modelFeatures : d != null ? d.features() : csvFeatures;
    if (features == null) {
      throw new IllegalArgumentException(
          "name the model's features: --model-features or --features (or use a --preset)");
    }
    String targetFeature = target != null ? target : d != null ? d.target() : null;
    if (targetFeature == null) {
      throw new IllegalArgumentException("name the feature to forecast: --target");
    }
    ModelSpec.Builder b =
        (d != null
                ? d.toBuilder()
                : ModelSpec.builder().architecture(cell).members(DEFAULT_MEMBERS))
            .name(modelName != null ? modelName : d != null ? d.name() : targetFeature)
            .features(features)
            .target(targetFeature)
            .layers(layers)
            .dropout(dropout)
            .horizon(horizon);
    if (horizons != null) {
      if (horizons < 1) {
        throw new IllegalArgumentException("--horizons must be at least 1, got " + horizons);
      }
      b.horizons(horizons);
    } else if (d == null) {
      b.horizons(1);
    }
    if (hidden != null) {
      b.hiddenSize(hidden);
    }
    if (members != null) {
      b.members(members);
    }
    if (calendar != null) {
      b.calendar(calendar);
    }
    if (weekday != null) {
      b.weekday(weekday);
    }
    if (targetTransform != null) {
      b.transform(ValueTransform.named(targetTransform));
    }
    if (inputTransform != null) {
      b.inputTransform(ValueTransform.named(inputTransform));
    }
    if (window != null) {
      b.windowLength(window);
    }
    if (highway != null) {
      b.highway(highway);
    }
    return b.build();
  }

  /** The training settings: the preset's (or the defaults), with every given flag applied. */
  public TrainingSettings settings(TrainingPreset preset) {
    TrainingSettings d = preset != null ? preset.settings() : TrainingSettings.builder().build();
    return TrainingSettings.builder()
        .epochs(or(epochs, d.epochs()))
        .learningRate(or(learningRate, d.learningRate()))
        .batchSize(or(batchSize, d.batchSize()))
        .patience(or(patience, d.patience()))
        .seed(seed)
        .loss(loss != null ? TrainingSettings.Loss.named(loss) : d.loss())
        .weightDecay(or(weightDecay, d.weightDecay()))
        .biasCorrection(or(biasCorrection, d.biasCorrection()))
        .ridge(or(ridge, d.ridge()))
        .build();
  }

  /**
   * What the trainer chooses from on the history before the test part: without a preset (or with
   * {@code --search}) every form the flags leave open; with a preset, or {@code --no-search},
   * nothing (null): the template is trained as it is.
   */
  public Selection.Space search(TrainingPreset preset) {
    boolean searching = search != null ? search : preset == null;
    if (!searching) {
      return null;
    }
    Selection.Space space = Selection.Space.wide();
    if (targetTransform != null) {
      space = space.withTransforms(List.of(ValueTransform.named(targetTransform)));
    }
    if (calendar != null) {
      space = space.withYearly(List.of(calendar));
    }
    if (weekday != null) {
      space = space.withWeekday(List.of(weekday));
    }
    if (window != null) {
      space = space.withWindows(List.of(window));
    }
    if (hidden != null) {
      space = space.withHidden(List.of(hidden));
    }
    if (ridge != null) {
      space = space.withRidges(List.of(ridge));
    }
    if (biasCorrection != null) {
      space = space.withBiasShift(List.of(biasCorrection));
    }
    if (loss != null) {
      space = space.withLoss(TrainingSettings.Loss.named(loss));
    }
    return space;
  }

  /** How long the search and the final training may take together. */
  public Duration budget() {
    Duration d = RetrainSchedule.parseDuration(budget);
    if (d.isNegative()) {
      throw new IllegalArgumentException(
          "--budget is 0s (closed forms only) or more, got '" + budget + "'");
    }
    return d;
  }

  /** Parts of the test period in the rolling-origin backtest. */
  public int folds() {
    return folds;
  }

  /** Which readings make windows: the job's policy, with the gap flags applied. */
  public WindowPolicy windowPolicy() {
    return new WindowPolicy(gapMaxDays, gapPolicy);
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }
}
