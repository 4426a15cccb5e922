package dev.forecaster.bench;

import dev.forecaster.model.ModelSpec;
import dev.forecaster.trainer.TrainingPreset;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --model}: which network a benchmark serves. By default the one the weather preset
 * publishes (its cell, hidden size, window, calendar, members and horizons), briefly trained: the
 * cost of a forward pass depends on the network's shape, not on how long it was trained.
 */
final class ModelOption {

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--model",
      paramLabel = "preset|reference",
      defaultValue = "preset",
      description =
          "preset: the network the weather preset publishes (GRU of 4 units, window 7 with the"
              + " calendar, 10 members, 7 horizons: 70 networks); reference: one GRU of 10 units,"
              + " window 6, one horizon, as in the figures before the presets (default:"
              + " ${DEFAULT-VALUE}).")
  String model;

  @Option(
      names = "--horizons",
      description = "Readings ahead forecast from each window, instead of the model's.")
  Integer horizons;

  @Option(
      names = "--members",
      description = "Networks averaged per horizon, instead of the model's.")
  Integer members;

  /** The network to benchmark, named {@code name}. */
  ModelSpec spec(String name) {
    ModelSpec.Builder b =
        switch (model) {
          case "preset" -> TrainingPreset.WEATHER.spec().toBuilder();
          case "reference" -> BenchSupport.referenceSpec(name).toBuilder();
          default ->
              throw new ParameterException(
                  mixee.commandLine(), "--model is preset or reference, got '" + model + "'");
        };
    b.name(name);
    if (horizons != null && horizons < 1 || members != null && members < 1) {
      throw new ParameterException(mixee.commandLine(), "--horizons and --members are at least 1");
    }
    if (horizons != null) {
      b.horizons(horizons);
    }
    if (members != null) {
      b.members(members);
    }
    return b.build();
  }
}
