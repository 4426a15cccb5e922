package dev.forecaster.bench;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.trainer.NetworkTrainer;
import dev.forecaster.trainer.SeriesGenerator;
import dev.forecaster.trainer.Split;
import dev.forecaster.trainer.TrainingCost;
import dev.forecaster.trainer.TrainingSettings;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How long training networks takes on this machine against what the search's budget counts for it
 * ({@link TrainingCost}, in seconds of the machine its constants were measured on): the ratio is
 * how much longer (above 1) or shorter a search of a given budget takes here.
 */
@Command(
    name = "training-cost",
    mixinStandardHelpOptions = true,
    description =
        "Trains two-member networks (GRU and LSTM; windows of 7 and 14; --hidden units; 2 and 4"
            + " inputs a day) on a generated seasonal series and prints the seconds each took"
            + " here against the reference seconds the search's budget counts for it.")
final class TrainingCostBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--days",
      defaultValue = "1500",
      description = "Days of the generated series (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(
      names = "--hidden",
      split = ",",
      defaultValue = "4,8,16",
      description = "Network sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> hidden;

  @Override
  public Integer call() {
    if (days < 200 || hidden.stream().anyMatch(h -> h < 1)) {
      throw new ParameterException(
          spec.commandLine(), "--days is at least 200 and every --hidden at least 1");
    }
    History history =
        History.of(SeriesGenerator.generate(SeriesGenerator.Kind.SEASONAL, 1, days, 1));
    List<Double> ratios = new ArrayList<>();
    System.out.printf(
        "%-5s %6s %6s %6s %7s %8s %10s %10s %7s%n",
        "cell", "window", "hidden", "inputs", "epochs", "windows", "seconds", "reference", "ratio");
    for (Architecture cell : Architecture.values()) {
      for (int window : List.of(7, 14)) {
        for (int h : hidden) {
          for (boolean calendar : List.of(false, true)) {
            ModelSpec model =
                ModelSpec.builder()
                    .name("cost")
                    .architecture(cell)
                    .hiddenSize(h)
                    .members(2)
                    .features(List.of("value", "aux"))
                    .calendar(calendar)
                    .target("value")
                    .windowLength(window)
                    .build();
            List<Sample> samples = Samples.of(history, model);
            Split split = Split.chronological(samples, (LocalDate) null);
            ModelSpec fitted = model.withScaling(ScalingFit.fit(model, split.train()));
            TrainingSettings settings =
                TrainingSettings.builder().combination(TrainingSettings.Combination.BLEND).build();
            long t0 = System.nanoTime();
            NetworkTrainer.Result result =
                NetworkTrainer.train(fitted, settings, split.train(), split.validation(), e -> {});
            double seconds = (System.nanoTime() - t0) / 1e9;
            result.model().close();
            int windows = split.train().size() + split.validation().size();
            double reference = TrainingCost.of(fitted, result, windows);
            int epochs =
                result.members().stream().mapToInt(NetworkTrainer.MemberRun::epochsRun).sum();
            ratios.add(seconds / reference);
            System.out.printf(
                "%-5s %6d %6d %6d %7d %8d %10.2f %10.2f %7.2f%n",
                cell.wireName(),
                window,
                h,
                model.inputsPerStep(),
                epochs,
                windows,
                seconds,
                reference,
                seconds / reference);
          }
        }
      }
    }
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
    System.out.printf(
        "seconds here / reference seconds: median %.2f, min %.2f, max %.2f over %d trainings%n",
        new Percentile().evaluate(r, 50),
        Arrays.stream(r).min().orElseThrow(),
        Arrays.stream(r).max().orElseThrow(),
        r.length);
    return 0;
  }
}
