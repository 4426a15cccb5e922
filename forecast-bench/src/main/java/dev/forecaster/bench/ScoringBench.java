package dev.forecaster.bench;

import ai.djl.translate.TranslateException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.model.BatchedPredictor;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.Sample;
import dev.forecaster.trainer.TrainingRun;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Batched against one-window-at-a-time scoring through the job's predictor. */
@Command(
    name = "scoring",
    mixinStandardHelpOptions = true,
    description =
        "Windows per second through BatchedPredictor at batch 1 and at --batch, one PyTorch"
            + " thread.")
final class ScoringBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--batch",
      defaultValue = "256",
      description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--members",
      defaultValue = "1",
      description = "Networks averaged in the model (default: ${DEFAULT-VALUE}).")
  int members;

  @Option(
      names = "--seconds",
      defaultValue = "5",
      description = "Measuring time per batch size (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Mixin HorizonsOption horizonsOption;

  @Override
  public Integer call() throws Exception {
    try (TrainingRun.Trained trained =
            BenchSupport.train(
                BenchSupport.referenceSpec("bench", members, horizonsOption.horizons));
        BatchedPredictor predictor = trained.model().newPredictor()) {
      LoadedModel model = trained.model();
      List<Sample> samples = trained.split().train();
      int fpw = model.encoder().floatsPerWindow();
      float[] encoded = new float[batch * fpw];
      double[] base = new double[batch];
      for (int i = 0; i < batch; i++) {
        Sample s = samples.get(i % samples.size());
        model.encoder().encode(s.values(), s.epochDays(), encoded, i * fpw);
        base[i] = s.baseValue();
      }
      double single = rate(predictor, encoded, base, 1);
      double batched = rate(predictor, encoded, base, batch);
      ObjectNode out = BenchSupport.JSON.createObjectNode();
      out.put("batch1PerSecond", Math.round(single));
      out.put("batch" + batch + "PerSecond", Math.round(batched));
      out.put("speedup", Math.round(batched / single * 10) / 10.0);
      out.put("members", members);
      out.put("horizons", horizonsOption.horizons);
      spec.commandLine().getOut().println(out);
    }
    return 0;
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
