package dev.forecaster.model;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/**
 * Everything about a model but its weights: the network, what it reads and predicts, how values are
 * transformed and scaled, how it was trained and how it scored. Stored as JSON inside the artifact
 * and copied into the {@code ModelUpdate} record.
 *
 * @param features reading features the model reads, in input order; the target is one of them
 * @param calendar whether day-of-year (as sin and cos) is an input after the features
 * @param weekday whether the day of the week (as sin and cos) is an input after those
 * @param windowLength readings the network sees per forecast
 * @param horizon how many readings ahead the first forecast is
 * @param horizons how many forecasts one window gives: {@code horizon}, {@code horizon + 1}, ...
 *     readings ahead, one output of the network each (1 when absent, as in models trained before it
 *     existed)
 * @param readingDays the days of the week the series reads on, learned from the training history; a
 *     forecast targets the horizon-th of them after its base day (every day when absent, as in
 *     models trained before it existed)
 * @param members independently trained networks whose outputs the model averages (at least 1)
 * @param highway whether a linear autoregression over the whole window is added to the members'
 *     mean: the network then forecasts a correction to it (see {@link Networks})
 * @param scaling fitted on training rows; null until fitted
 * @param intervals prediction intervals around the forecast, by level, from all validation
 *     residuals (empty when not calibrated)
 * @param calibrationResiduals the newest validation residuals (actual − forecast, oldest first),
 *     where the served intervals' rolling calibration starts ({@link Conformal.Rolling})
 * @param laterIntervals {@code intervals} of the later horizons, one list each (horizon + 1, ...)
 * @param laterCalibrationResiduals {@code calibrationResiduals} of the later horizons
 * @param training the training settings (learning rate, epochs, seed, ...), as text
 */
public record ModelSpec(
    String name,
    long version,
    Architecture architecture,
    int hiddenSize,
    int layers,
    float dropout,
    int members,
    List<String> features,
    boolean calendar,
    boolean weekday,
    ValueTransform inputTransform,
    String target,
    ValueTransform targetTransform,
    int windowLength,
    int horizon,
    int horizons,
    ReadingDays readingDays,
    boolean highway,
    Scaling scaling,
    List<IntervalBand> intervals,
    List<Double> calibrationResiduals,
    List<List<IntervalBand>> laterIntervals,
    List<List<Double>> laterCalibrationResiduals,
    Map<String, String> training,
    Map<String, Double> trainingMetrics,
    Map<String, Double> backtestMetrics,
    long createdAtMillis) {

  public ModelSpec {
    if (features == null) {
      throw new IllegalArgumentException("a model reads at least one feature");
    }
    features = List.copyOf(features);
    readingDays = readingDays == null ? ReadingDays.EVERY_DAY : readingDays;
    intervals = intervals == null ? List.of() : List.copyOf(intervals);
    calibrationResiduals =
        calibrationResiduals == null ? List.of() : List.copyOf(calibrationResiduals);
    horizons = horizons == 0 ? 1 : horizons; // absent in specs written before it existed
    laterIntervals =
        laterIntervals == null ? List.of() : laterIntervals.stream().map(List::copyOf).toList();
    laterCalibrationResiduals =
        laterCalibrationResiduals == null
            ? List.of()
            : laterCalibrationResiduals.stream().map(List::copyOf).toList();
    training = training == null ? Map.of() : Map.copyOf(training);
    trainingMetrics = trainingMetrics == null ? Map.of() : Map.copyOf(trainingMetrics);
    backtestMetrics = backtestMetrics == null ? Map.of() : Map.copyOf(backtestMetrics);
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a model needs a name");
    }
    if (features.isEmpty()) {
      throw new IllegalArgumentException("a model reads at least one feature");
    }
    if (!features.contains(target)) {
      throw new IllegalArgumentException(
          "the target '" + target + "' must be one of the features " + features);
    }
    if (windowLength < 1
        || horizon < 1
        || horizons < 1
        || hiddenSize < 1
        || layers < 1
        || members < 1) {
      throw new IllegalArgumentException(
          "window, horizon, horizons, hidden size, layers and members must be at least 1");
    }
    for (List<?> later : List.of(laterIntervals, laterCalibrationResiduals)) {
      if (!later.isEmpty() && later.size() != horizons - 1) {
        throw new IllegalArgumentException(
            "a model of " + horizons + " horizons has " + later.size() + " later calibrations");
      }
    }
    if (dropout < 0 || dropout >= 1) {
      throw new IllegalArgumentException("dropout must be in [0, 1): " + dropout);
    }
    if (scaling != null && scaling.inputMean().length != features.size()) {
      throw new IllegalArgumentException(
          "scaling has "
              + scaling.inputMean().length
              + " inputs, the model reads "
              + features.size()
              + " features");
    }
  }

  /**
   * Network inputs per time step: the features, then sin and cos of the day of year, then sin and
   * cos of the day of the week.
   */
  public int inputsPerStep() {
    return features.size() + (calendar ? 2 : 0) + (weekday ? 2 : 0);
  }

  /** Readings a window needs: the window, plus one before it when inputs are changes. */
  public int readingsPerWindow() {
    return windowLength + inputTransform.lag();
  }

  public int targetIndex() {
    return features.indexOf(target);
  }

  /** The day a forecast of this model from {@code baseDay} targets: see {@link ReadingDays}. */
  public LocalDate targetDay(LocalDate baseDay) {
    return targetDay(baseDay, 0);
  }

  /** The day the {@code output}-th forecast (0: the first) from {@code baseDay} targets. */
  public LocalDate targetDay(LocalDate baseDay, int output) {
    return readingDays.after(baseDay, horizon + output);
  }

  /** How many readings ahead the {@code output}-th forecast (0: the first) is. */
  public int horizonOf(int output) {
    return horizon + output;
  }

  /** The intervals of the {@code output}-th forecast (0: the first); empty when not calibrated. */
  public List<IntervalBand> intervals(int output) {
    if (output == 0) {
      return intervals;
    }
    return laterIntervals.isEmpty() ? List.of() : laterIntervals.get(output - 1);
  }

  /** The calibration residuals of the {@code output}-th forecast (0: the first). */
  public List<Double> calibrationResiduals(int output) {
    if (output == 0) {
      return calibrationResiduals;
    }
    return laterCalibrationResiduals.isEmpty()
        ? List.of()
        : laterCalibrationResiduals.get(output - 1);
  }

  /**
   * The one-output model of this one's {@code output}-th forecast: its horizon, its calibration,
   * the rest the same (a model of several horizons is one of these per horizon, side by side).
   */
  public ModelSpec output(int output) {
    return toBuilder()
        .horizon(horizonOf(output))
        .horizons(1)
        .intervals(intervals(output))
        .calibrationResiduals(calibrationResiduals(output))
        .laterIntervals(List.of())
        .laterCalibrationResiduals(List.of())
        .build();
  }

  public ModelSpec withScaling(Scaling newScaling) {
    return toBuilder().scaling(newScaling).build();
  }

  /** The same model with {@code n} averaged networks. */
  public ModelSpec withMembers(int n) {
    return toBuilder().members(n).build();
  }

  public ModelSpec withVersion(long newVersion, long newCreatedAtMillis) {
    return toBuilder().version(newVersion).createdAtMillis(newCreatedAtMillis).build();
  }

  public ModelSpec withMetrics(
      Map<String, String> newTraining,
      Map<String, Double> newTrainingMetrics,
      Map<String, Double> newBacktestMetrics) {
    return toBuilder()
        .training(newTraining)
        .trainingMetrics(newTrainingMetrics)
        .backtestMetrics(newBacktestMetrics)
        .build();
  }

  /** A builder with this spec's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * A builder with the defaults of an unfitted model: version 0, a GRU of 8 units, one layer, no
   * dropout, one member, no calendar, levels in and out, a window of 7, one step ahead.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a spec by name; {@link #build()} validates it. */
  public static final class Builder {
    private String name;
    private long version;
    private Architecture architecture = Architecture.GRU;
    private int hiddenSize = 8;
    private int layers = 1;
    private float dropout;
    private int members = 1;
    private List<String> features;
    private boolean calendar;
    private boolean weekday;
    private ValueTransform inputTransform = ValueTransform.LEVEL;
    private String target;
    private ValueTransform targetTransform = ValueTransform.LEVEL;
    private int windowLength = 7;
    private int horizon = 1;
    private int horizons = 1;
    private ReadingDays readingDays = ReadingDays.EVERY_DAY;
    private boolean highway;
    private Scaling scaling;
    private List<IntervalBand> intervals = List.of();
    private List<Double> calibrationResiduals = List.of();
    private List<List<IntervalBand>> laterIntervals = List.of();
    private List<List<Double>> laterCalibrationResiduals = List.of();
    private Map<String, String> training;
    private Map<String, Double> trainingMetrics;
    private Map<String, Double> backtestMetrics;
    private long createdAtMillis;

    private Builder() {}

    private Builder(ModelSpec s) {
      name = s.name;
      version = s.version;
      architecture = s.architecture;
      hiddenSize = s.hiddenSize;
      layers = s.layers;
      dropout = s.dropout;
      members = s.members;
      features = s.features;
      calendar = s.calendar;
      weekday = s.weekday;
      inputTransform = s.inputTransform;
      target = s.target;
      targetTransform = s.targetTransform;
      windowLength = s.windowLength;
      horizon = s.horizon;
      horizons = s.horizons;
      readingDays = s.readingDays;
      highway = s.highway;
      scaling = s.scaling;
      intervals = s.intervals;
      calibrationResiduals = s.calibrationResiduals;
      laterIntervals = s.laterIntervals;
      laterCalibrationResiduals = s.laterCalibrationResiduals;
      training = s.training;
      trainingMetrics = s.trainingMetrics;
      backtestMetrics = s.backtestMetrics;
      createdAtMillis = s.createdAtMillis;
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder version(long v) {
      version = v;
      return this;
    }

    public Builder architecture(Architecture v) {
      architecture = v;
      return this;
    }

    public Builder hiddenSize(int v) {
      hiddenSize = v;
      return this;
    }

    public Builder layers(int v) {
      layers = v;
      return this;
    }

    public Builder dropout(float v) {
      dropout = v;
      return this;
    }

    public Builder members(int v) {
      members = v;
      return this;
    }

    public Builder features(List<String> v) {
      features = v;
      return this;
    }

    public Builder calendar(boolean v) {
      calendar = v;
      return this;
    }

    public Builder weekday(boolean v) {
      weekday = v;
      return this;
    }

    public Builder highway(boolean v) {
      highway = v;
      return this;
    }

    public Builder inputTransform(ValueTransform v) {
      inputTransform = v;
      return this;
    }

    public Builder target(String v) {
      target = v;
      return this;
    }

    public Builder targetTransform(ValueTransform v) {
      targetTransform = v;
      return this;
    }

    /** Inputs and target as the same transform. */
    public Builder transform(ValueTransform v) {
      return inputTransform(v).targetTransform(v);
    }

    public Builder windowLength(int v) {
      windowLength = v;
      return this;
    }

    public Builder horizon(int v) {
      horizon = v;
      return this;
    }

    /** How many consecutive horizons one window is forecast for, from {@link #horizon}. */
    public Builder horizons(int v) {
      horizons = v;
      return this;
    }

    public Builder laterIntervals(List<List<IntervalBand>> v) {
      laterIntervals = v;
      return this;
    }

    public Builder laterCalibrationResiduals(List<List<Double>> v) {
      laterCalibrationResiduals = v;
      return this;
    }

    public Builder intervals(List<IntervalBand> v) {
      intervals = v;
      return this;
    }

    public Builder calibrationResiduals(List<Double> v) {
      calibrationResiduals = v;
      return this;
    }

    public Builder readingDays(ReadingDays v) {
      readingDays = v;
      return this;
    }

    public Builder scaling(Scaling v) {
      scaling = v;
      return this;
    }

    public Builder training(Map<String, String> v) {
      training = v;
      return this;
    }

    public Builder trainingMetrics(Map<String, Double> v) {
      trainingMetrics = v;
      return this;
    }

    public Builder backtestMetrics(Map<String, Double> v) {
      backtestMetrics = v;
      return this;
    }

    public Builder createdAtMillis(long v) {
      createdAtMillis = v;
      return this;
    }

    public ModelSpec build() {
      return new ModelSpec(
          name,
          version,
          architecture,
          hiddenSize,
          layers,
          dropout,
          members,
          features,
          calendar,
          weekday,
          inputTransform,
          target,
          targetTransform,
          windowLength,
          horizon,
          horizons,
          readingDays,
          highway,
          scaling,
          intervals,
          calibrationResiduals,
          laterIntervals,
          laterCalibrationResiduals,
          training,
          trainingMetrics,
          backtestMetrics,
          createdAtMillis);
    }
  }
}
