package dev.forecaster.trainer;

import ai.djl.translate.TranslateException;
import dev.forecaster.model.BatchedPredictor;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.Sample;
import java.util.List;

/** Scores windows with a model through the same batched predictor the job uses. */
public final class ModelScoring {

  static final int BATCH = 256;

  private ModelScoring() {}

  public static double[] predict(LoadedModel model, List<Sample> samples) {
    double[] out = new double[samples.size()];
    int fpw = model.encoder().floatsPerWindow();
    float[] encoded = new float[BATCH * fpw];
    double[] base = new double[BATCH];
    double[] batchOut = new double[BATCH];
    try (BatchedPredictor predictor = model.newPredictor()) {
      for (int start = 0; start < samples.size(); start += BATCH) {
        int n = Math.min(BATCH, samples.size() - start);
        for (int i = 0; i < n; i++) {
          Sample s = samples.get(start + i);
          model.encoder().encode(s.values(), s.epochDays(), encoded, i * fpw);
          base[i] = s.baseValue();
        }
        predictor.predict(encoded, base, n, batchOut);
        System.arraycopy(batchOut, 0, out, start, n);
      }
    } catch (TranslateException e) {
      throw new IllegalStateException(
          "scoring with " + model.spec().name() + " failed: " + e.getMessage(), e);
    }
    return out;
  }
}
