package dev.forecaster.trainer;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training defaults per domain; every value can be overridden by a flag of {@code train}. Small
 * networks, several of them averaged: the weather history is about a thousand windows.
 *
 * <p>Weather: the next day's maximum temperature from the last week of all four measurements plus
 * the day of the year, as levels. Stock: the next close from the last two weeks of daily bars, all
 * as log returns, so the model never has to extrapolate a price level it has not seen; trained on
 * absolute error, which keeps it from chasing the noise of daily returns. Weather forecasts are
 * shifted by their error on the validation windows (the climate drifts: 2015 was warmer than the
 * years before); returns have no level to drift from, so stock is not. Both forecast more than the
 * next reading: weather the week ahead (7 horizons), stock the trading week (5), one network per
 * horizon of the same form.
 */
public enum TrainingPreset {
  WEATHER(
      ModelSpec.builder()
          .name("weather")
          .target("temp_max")
          .features(List.of("temp_max", "temp_min", "precipitation", "wind"))
          .calendar(true)
          .transform(ValueTransform.LEVEL)
          .windowLength(7)
          .horizons(7)
          .members(10),
      Map.of(Architecture.GRU, 4, Architecture.LSTM, 8),
      TrainingSettings.builder()
          .epochs(400)
          .learningRate(0.002)
          .batchSize(32)
          .patience(50)
          .loss(TrainingSettings.Loss.MSE)
          .biasCorrection(true)
          .build()),
  STOCK(
      ModelSpec.builder()
          .name("stock")
          .target("close")
          .features(List.of("close", "open", "high", "low", "volume"))
          .calendar(false)
          .transform(ValueTransform.LOG_CHANGE)
          .windowLength(10)
          .horizons(5)
          .members(5),
      Map.of(Architecture.GRU, 8, Architecture.LSTM, 8),
      TrainingSettings.builder()
          .epochs(200)
          .learningRate(0.001)
          .batchSize(64)
          .patience(30)
          .loss(TrainingSettings.Loss.MAE)
          .biasCorrection(false)
          .build());

  private final ModelSpec template;
  private final Map<Architecture, Integer> hidden;
  private final TrainingSettings settings;

  TrainingPreset(
      ModelSpec.Builder template, Map<Architecture, Integer> hidden, TrainingSettings settings) {
    this.template = template.build();
    this.hidden = hidden;
    this.settings = settings;
  }

  /**
   * The preset's model with a cell, unfitted. Hidden units per cell: on the weather data a GRU of 4
   * units and an LSTM of 8 came out best on the validation windows (docs/BENCHMARKS.md has the
   * sweep).
   */
  public ModelSpec spec(Architecture cell) {
    return template.toBuilder().architecture(cell).hiddenSize(hidden.get(cell)).build();
  }

  /** The preset's model with its default cell (GRU). */
  public ModelSpec spec() {
    return spec(Architecture.GRU);
  }

  public TrainingSettings settings() {
    return settings;
  }

  public static TrainingPreset named(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown preset '" + name + "': use weather or stock", e);
    }
  }
}
