package dev.forecaster.bench;

import picocli.CommandLine.Option;

/** {@code --horizons}: how many readings ahead the benchmarked model forecasts. */
final class HorizonsOption {

  @Option(
      names = "--horizons",
      defaultValue = "1",
      description =
          "Readings ahead the model forecasts from each window, one network each, one forward"
              + " pass (default: ${DEFAULT-VALUE}).")
  int horizons;
}
