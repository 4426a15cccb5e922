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

  /** Each window's forecast of the model's first horizon. */
  public static double[] predict(LoadedModel model, List<Sample> samples) {
    double[][] all = predictAll(model, samples);
    double[] first = new double[all.length];
    for (int i = 0; i < first.length; i++) {
      first[i] = all[i][0];
    }
    return first;
  }

  /** Each window's forecasts, one per horizon of the model. */
  public static double[][] predictAll(LoadedModel model, List<Sample> samples) {
    int outputs = model.spec().horizons();
    double[][] out = new double[samples.size()][];
    int fpw = model.encoder().floatsPerWindow();
    float[] encoded = new float[BATCH * fpw];
    double[] base = new double[BATCH];
    double[] batchOut = new double[BATCH * outputs];
    try (BatchedPredictor predictor = model.newPredictor()) {
      for (int start = 0; start < samples.size(); start += BATCH) {
        int n = Math.min(BATCH, samples.size() - start);
        for (int i = 0; i < n; i++) {
          Sample s = samples.get(start + i);
          model.encoder().encode(s.values(), s.epochDays(), encoded, i * fpw);
          base[i] = s.baseValue();
        }
        predictor.predict(encoded, base, n, batchOut);
        for (int i = 0; i < n; i++) {
          double[] row = new double[outputs];
          System.arraycopy(batchOut, i * outputs, row, 0, outputs);
          out[start + i] = row;
        }
      }
    } catch (TranslateException e) {
      throw new IllegalStateException(
          "scoring with " + model.spec().name() + " failed: " + e.getMessage(), e);
    }
    return out;
  }
}
