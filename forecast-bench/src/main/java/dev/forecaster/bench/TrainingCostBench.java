package dev.forecaster.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * how much longer (above 1) or shorter the networks of a search of a given budget take here.
 */
@Command(
    name = "training-cost",
    mixinStandardHelpOptions = true,
    description =
        "Trains two-member networks (GRU and LSTM; windows of 7 and 14; --hidden units; 2 and 4"
            + " inputs a day) on a generated seasonal series; prints a JSON line per training"
            + " (seconds here, reference seconds the search's budget counts for it, their ratio)"
            + " and one with the median ratio: how many seconds a reference second of --budget"
            + " takes here. About 4 minutes with the defaults on 2 cores.")
final class TrainingCostBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--days",
      defaultValue = "1500",
      description = "Days of the generated series, 200 to 20000 (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(
      names = "--hidden",
      split = ",",
      defaultValue = "4,8,16",
      description = "Network sizes, 1 to 256 each (default: ${DEFAULT-VALUE}).")
  List<Integer> hidden;

  @Override
  public Integer call() {
    if (days < 200 || days > 20_000) {
      throw new ParameterException(spec.commandLine(), "--days must be 200 to 20000, not " + days);
    }
    for (int h : hidden) {
      if (h < 1 || h > 256) {
        throw new ParameterException(spec.commandLine(), "--hidden must be 1 to 256, not " + h);
      }
    }
    History history =
        History.of(SeriesGenerator.generate(SeriesGenerator.Kind.SEASONAL, 1, days, 1));
    train(history, Architecture.GRU, 7, hidden.get(0), false); // untimed: loads the engine
    List<Double> ratios = new ArrayList<>();
    for (Architecture cell : Architecture.values()) {
      for (int window : List.of(7, 14)) {
        for (int h : hidden) {
          for (boolean calendar : List.of(false, true)) {
            ObjectNode line = train(history, cell, window, h, calendar);
            ratios.add(line.get("ratio").asDouble());
            System.out.println(line);
          }
        }
      }
    }
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
    ObjectNode summary = BenchSupport.JSON.createObjectNode();
    summary.put("trainings", r.length);
    summary.put("secondsPerReferenceSecondMedian", round(new Percentile().evaluate(r, 50)));
    summary.put("min", round(Arrays.stream(r).min().orElseThrow()));
    summary.put("max", round(Arrays.stream(r).max().orElseThrow()));
    System.out.println(summary);
    return 0;
  }

  /** Trains one two-member network and says what it cost by the clock and by the budget. */
  private static ObjectNode train(
      History history, Architecture cell, int window, int hidden, boolean calendar) {
    ModelSpec model =
        ModelSpec.builder()
            .name("cost")
            .architecture(cell)
            .hiddenSize(hidden)
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
    ObjectNode line = BenchSupport.JSON.createObjectNode();
    line.put("cell", cell.wireName());
    line.put("window", window);
    line.put("hidden", hidden);
    line.put("inputsPerDay", model.inputsPerStep());
    line.put(
        "epochs", result.members().stream().mapToInt(NetworkTrainer.MemberRun::epochsRun).sum());
    line.put("windows", windows);
    line.put("seconds", round(seconds));
    line.put("referenceSeconds", round(reference));
    line.put("ratio", round(seconds / reference));
    return line;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
