package dev.forecaster.model;

import java.util.List;
import java.util.Map;

/**
 * Everything about a model but its weights: the network, what it reads and predicts, how values
 * are transformed and scaled, how it was trained and how it scored. Stored as JSON inside the
 * artifact and copied into the {@code ModelUpdate} record.
 *
 * @param features reading features the model reads, in input order; the target is one of them
 * @param calendar whether day-of-year (as sin and cos) is an input after the features
 * @param windowLength readings the network sees per forecast
 * @param horizon how many readings ahead the forecast is
 * @param members independently trained networks whose outputs the model averages (at least 1)
 * @param scaling fitted on training rows; null until fitted
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
    ValueTransform inputTransform,
    String target,
    ValueTransform targetTransform,
    int windowLength,
    int horizon,
    Scaling scaling,
    Map<String, String> training,
    Map<String, Double> trainingMetrics,
    Map<String, Double> backtestMetrics,
    long createdAtMillis) {

  public ModelSpec {
    features = List.copyOf(features);
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
      throw new IllegalArgumentException("the target '" + target + "' must be one of the features " + features);
    }
    if (windowLength < 1 || horizon < 1 || hiddenSize < 1 || layers < 1 || members < 1) {
      throw new IllegalArgumentException("window, horizon, hidden size, layers and members must be at least 1");
    }
    if (dropout < 0 || dropout >= 1) {
      throw new IllegalArgumentException("dropout must be in [0, 1): " + dropout);
    }
    if (scaling != null && scaling.inputMean().length != features.size()) {
      throw new IllegalArgumentException(
          "scaling has " + scaling.inputMean().length + " inputs, the model reads " + features.size() + " features");
    }
  }

  /** Network inputs per time step: the features, then sin and cos of the day of year. */
  public int inputsPerStep() {
    return features.size() + (calendar ? 2 : 0);
  }

  /** Readings a window needs: the window, plus one before it when inputs are changes. */
  public int readingsPerWindow() {
    return windowLength + inputTransform.lag();
  }

  public int targetIndex() {
    return features.indexOf(target);
  }

  public ModelSpec withScaling(Scaling newScaling) {
    return new ModelSpec(name, version, architecture, hiddenSize, layers, dropout, members, features, calendar,
        inputTransform, target, targetTransform, windowLength, horizon, newScaling, training,
        trainingMetrics, backtestMetrics, createdAtMillis);
  }

  /** The same model with {@code n} averaged networks. */
  public ModelSpec withMembers(int n) {
    return new ModelSpec(name, version, architecture, hiddenSize, layers, dropout, n, features, calendar,
        inputTransform, target, targetTransform, windowLength, horizon, scaling, training,
        trainingMetrics, backtestMetrics, createdAtMillis);
  }

  public ModelSpec withVersion(long newVersion, long newCreatedAtMillis) {
    return new ModelSpec(name, newVersion, architecture, hiddenSize, layers, dropout, members, features, calendar,
        inputTransform, target, targetTransform, windowLength, horizon, scaling, training,
        trainingMetrics, backtestMetrics, newCreatedAtMillis);
  }

  public ModelSpec withMetrics(
      Map<String, String> newTraining, Map<String, Double> newTrainingMetrics, Map<String, Double> newBacktestMetrics) {
    return new ModelSpec(name, version, architecture, hiddenSize, layers, dropout, members, features, calendar,
        inputTransform, target, targetTransform, windowLength, horizon, scaling, newTraining,
        newTrainingMetrics, newBacktestMetrics, createdAtMillis);
  }
}
