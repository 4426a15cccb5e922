package dev.forecaster.trainer;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a network is fitted.
 *
 * @param patience epochs without a better validation loss before stopping; 0 trains every epoch
 * @param loss mse or mae, on the scaled target
 * @param weightDecay L2 penalty on the weights, as Adam's weight decay; 0 = none
 * @param biasCorrection shift the model's output by its mean (mse) or median (mae) error on the
 *     validation windows, the history just before the test part: a series that drifted away
 *     from its training level (a warmer year) is then not forecast too low throughout
 */
public record TrainingSettings(int epochs, double learningRate, int batchSize, int patience, long seed, String loss,
    double weightDecay, boolean biasCorrection) {

  public TrainingSettings {
    if (epochs < 1 || batchSize < 1 || patience < 0 || !(learningRate > 0) || !(weightDecay >= 0)) {
      throw new IllegalArgumentException("epochs and batch size must be at least 1, patience at least 0, lr positive");
    }
    loss = loss.toLowerCase(Locale.ROOT);
    if (!loss.equals("mse") && !loss.equals("mae")) {
      throw new IllegalArgumentException("loss must be mse or mae, not " + loss);
    }
  }

  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("epochs", Integer.toString(epochs));
    m.put("learningRate", Double.toString(learningRate));
    m.put("batchSize", Integer.toString(batchSize));
    m.put("patience", Integer.toString(patience));
    m.put("seed", Long.toString(seed));
    m.put("loss", loss);
    m.put("weightDecay", Double.toString(weightDecay));
    m.put("biasCorrection", Boolean.toString(biasCorrection));
    return m;
  }
}
