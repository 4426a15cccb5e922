package dev.forecaster.bench;

import ai.djl.translate.TranslateException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.model.BatchedPredictor;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.trainer.TrainingRun;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Batched against one-window-at-a-time scoring through the job's predictor, fused against the
 * networks one by one.
 */
@Command(
    name = "scoring",
    mixinStandardHelpOptions = true,
    description =
        "Windows per second through BatchedPredictor at batch 1 and at --batch, one PyTorch"
            + " thread: the networks fused and run one by one, interleaved; speedup is the"
            + " serving predictor's.")
final class ScoringBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--batch",
      defaultValue = "256",
      description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seconds",
      defaultValue = "5",
      description = "Measuring time per batch size (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description =
          "Measurements of each variant, interleaved; the median is printed (default:"
              + " ${DEFAULT-VALUE}).")
  int rounds;

  @Mixin ModelOption modelOption;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1 || batch < 2 || seconds < 1) {
      throw new ParameterException(
          spec.commandLine(), "--rounds and --seconds are at least 1, --batch at least 2");
    }
    ModelSpec model = modelOption.spec("bench");
    try (TrainingRun.Trained trained = BenchSupport.train(model);
        BatchedPredictor fused = trained.model().newFusedPredictor();
        BatchedPredictor oneByOne = trained.model().newUnfusedPredictor()) {
      LoadedModel loaded = trained.model();
      List<Sample> samples = trained.split().train();
      int fpw = loaded.encoder().floatsPerWindow();
      float[] encoded = new float[batch * fpw];
      double[] base = new double[batch];
      for (int i = 0; i < batch; i++) {
        Sample s = samples.get(i % samples.size());
        loaded.encoder().encode(s.values(), s.epochDays(), encoded, i * fpw);
        base[i] = s.baseValue();
      }
      // interleaved, so that the machine's moods hit every variant alike
      Map<String, List<Double>> rates = new LinkedHashMap<>();
      for (int round = 0; round < rounds; round++) {
        for (int n : new int[] {1, batch}) {
          rates
              .computeIfAbsent("fused" + n, k -> new ArrayList<>())
              .add(rate(fused, encoded, base, n));
          rates
              .computeIfAbsent("oneByOne" + n, k -> new ArrayList<>())
              .add(rate(oneByOne, encoded, base, n));
        }
      }
      ObjectNode out = BenchSupport.JSON.createObjectNode();
      out.put("model", modelOption.model);
      out.put("networks", model.members() * model.horizons());
      out.put("members", model.members());
      out.put("horizons", model.horizons());
      out.put("hiddenSize", model.hiddenSize());
      out.put("rounds", rounds);
      // what the job serves at each size: fused from 4 networks on, up to 512 windows
      String serving1;
      String servingN;
      try (BatchedPredictor serving = trained.model().newPredictor()) {
        serving1 = serving.networkFor(1).endsWith("-fused") ? "fused" : "oneByOne";
        servingN = serving.networkFor(batch).endsWith("-fused") ? "fused" : "oneByOne";
      }
      out.putObject("serving").put("1", serving1).put(Integer.toString(batch), servingN);
      double single = median(rates.get(serving1 + 1));
      double batched = median(rates.get(servingN + batch));
      out.put("batch1PerSecond", Math.round(single));
      out.put("batch" + batch + "PerSecond", Math.round(batched));
      out.put("speedup", Math.round(batched / single * 10) / 10.0);
      out.put("oneByOneBatch1PerSecond", Math.round(median(rates.get("oneByOne1"))));
      out.put(
          "oneByOneBatch" + batch + "PerSecond", Math.round(median(rates.get("oneByOne" + batch))));
      out.put("fusedBatch1PerSecond", Math.round(median(rates.get("fused1"))));
      out.put("fusedBatch" + batch + "PerSecond", Math.round(median(rates.get("fused" + batch))));
      out.put(
          "fusedGainBatch1",
          Math.round(median(rates.get("fused1")) / median(rates.get("oneByOne1")) * 10) / 10.0);
      out.put(
          "fusedGainBatch" + batch,
          Math.round(
                  median(rates.get("fused" + batch)) / median(rates.get("oneByOne" + batch)) * 10)
              / 10.0);
      ObjectNode spread = out.putObject("rangePerSecond");
      rates.forEach(
          (k, v) ->
              spread
                  .putArray(k)
                  .add(Math.round(Collections.min(v)))
                  .add(Math.round(Collections.max(v))));
      spec.commandLine().getOut().println(out);
    }
    return 0;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** Windows per second at batch {@code n}, after a second of warm-up. */
  private double rate(BatchedPredictor predictor, float[] encoded, double[] base, int n)
      throws TranslateException {
    double[] out = new double[n * predictor.outputs()];
    long warm = System.nanoTime() + 1_000_000_000L;
    while (System.nanoTime() < warm) {
      predictor.predict(encoded, base, n, out);
    }
    long windows = 0;
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    while (System.nanoTime() < end) {
      predictor.predict(encoded, base, n, out);
      windows += n;
    }
    return windows / ((System.nanoTime() - start) / 1e9);
  }
}
