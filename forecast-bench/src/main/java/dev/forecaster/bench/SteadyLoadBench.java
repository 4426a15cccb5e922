package dev.forecaster.bench;

import dev.forecaster.model.ModelSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the benchmarks that send readings at a steady rate share: the rate, the measured seconds,
 * the series, a warm-up at the rate before measuring, the model served and job settings.
 */
abstract class SteadyLoadBench {

  @Option(
      names = "--rate",
      defaultValue = "5000",
      description = "Readings per second (default: ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--seconds",
      defaultValue = "60",
      description = "Measured seconds (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--series",
      defaultValue = "1000",
      description = "Series (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "30",
      description =
          "Seconds at the rate before measuring: windows fill, the JIT compiles (default:"
              + " ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Mixin ModelOption modelOption;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "A job setting on top of the benchmark's; repeatable.")
  Map<String, String> settings = new LinkedHashMap<>();

  /** Days of warm-up: the seconds at the rate, and at least one full window of {@code model}. */
  int warmDays(ModelSpec model) {
    return Math.max(model.readingsPerWindow(), rate * warmupSeconds / series);
  }

  /** Days in all: the warm-up's and the measured seconds' at the rate. */
  int days(int warmDays) {
    return warmDays + rate * seconds / series;
  }
}
