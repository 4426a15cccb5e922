package dev.forecaster.trainer;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.ValueTransform;
import java.util.List;
import java.util.Locale;

/**
 * Training defaults per domain; every value can be overridden by a flag of {@code train}.
 * Small networks, several of them averaged: the weather history is about a thousand windows.
 *
 * <p>Weather: the next day's maximum temperature from the last week of all four measurements
 * plus the day of the year, as levels. Stock: the next close from the last two weeks of daily
 * bars, all as log returns, so the model never has to extrapolate a price level it has not
 * seen; trained on absolute error, which keeps it from chasing the noise of daily returns.
 * Weather forecasts are shifted by their error on the validation windows (the climate drifts:
 * 2015 was warmer than the years before); returns have no level to drift from, so stock is not.
 */
public enum TrainingPreset {
  WEATHER("weather", "temp_max", List.of("temp_max", "temp_min", "precipitation", "wind"), true,
      ValueTransform.LEVEL, ValueTransform.LEVEL, Architecture.GRU, 7, 4, 8, 10, 400, 0.002, 32, 50, "mse", 0, true),
  STOCK("stock", "close", List.of("close", "open", "high", "low", "volume"), false,
      ValueTransform.LOG_CHANGE, ValueTransform.LOG_CHANGE, Architecture.GRU, 10, 8, 8, 5, 200, 0.001, 64, 30, "mae", 0, false);

  public final String modelName;
  public final String target;
  public final List<String> features;
  public final boolean calendar;
  public final ValueTransform inputTransform;
  public final ValueTransform targetTransform;
  public final Architecture architecture;
  public final int window;
  private final int gruHidden;
  private final int lstmHidden;
  public final int members;
  public final int epochs;
  public final double learningRate;
  public final int batchSize;
  public final int patience;
  public final String loss;
  public final double weightDecay;
  public final boolean biasCorrection;

  TrainingPreset(String modelName, String target, List<String> features, boolean calendar,
      ValueTransform inputTransform, ValueTransform targetTransform, Architecture architecture, int window,
      int gruHidden, int lstmHidden, int members, int epochs, double learningRate, int batchSize, int patience, String loss,
      double weightDecay, boolean biasCorrection) {
    this.modelName = modelName;
    this.target = target;
    this.features = features;
    this.calendar = calendar;
    this.inputTransform = inputTransform;
    this.targetTransform = targetTransform;
    this.architecture = architecture;
    this.window = window;
    this.gruHidden = gruHidden;
    this.lstmHidden = lstmHidden;
    this.members = members;
    this.epochs = epochs;
    this.learningRate = learningRate;
    this.batchSize = batchSize;
    this.patience = patience;
    this.loss = loss;
    this.weightDecay = weightDecay;
    this.biasCorrection = biasCorrection;
  }

  /**
   * Hidden units for a cell: on the weather data a GRU of 4 units and an LSTM of 8 came out best
   * on the validation windows (docs/BENCHMARKS.md has the sweep).
   */
  public int hidden(Architecture cell) {
    return cell == Architecture.GRU ? gruHidden : lstmHidden;
  }

  /** The preset's model, unfitted, with {@code members} networks (the preset's count when null). */
  public dev.forecaster.model.ModelSpec spec(Architecture cell, Integer members) {
    return new dev.forecaster.model.ModelSpec(modelName, 0, cell, hidden(cell), 1, 0f,
        members != null ? members : this.members, features, calendar, inputTransform, target, targetTransform, window,
        1, null, null, null, null, 0);
  }

  /** The preset's training settings, with at most {@code epochs} epochs (the preset's when null). */
  public TrainingSettings settings(Integer epochs, long seed) {
    return new TrainingSettings(epochs != null ? epochs : this.epochs, learningRate, batchSize, patience, seed, loss,
        weightDecay, biasCorrection);
  }

  public static TrainingPreset named(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown preset '" + name + "': use weather or stock", e);
    }
  }
}
