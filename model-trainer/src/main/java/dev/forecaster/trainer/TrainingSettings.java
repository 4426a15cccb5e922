package dev.forecaster.trainer;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a network is fitted.
 *
 * @param patience epochs without a better validation loss before stopping; 0 trains every epoch
 * @param loss the training loss, on the scaled target
 * @param weightDecay L2 penalty on the weights, as Adam's weight decay; 0 = none
 * @param combination how a highway's least squares and the members make the forecast
 * @param ridge shrinkage of a highway's least squares, relative to each input's sum of squares
 *     ({@link LinearFit#OLS}: none)
 * @param biasCorrection shift the model's output by its mean (mse) or median (mae) error on the
 *     validation windows, the history just before the test part: a series that drifted away from
 *     its training level (a warmer year) is then not forecast too low throughout
 */
public record TrainingSettings(
    int epochs,
    double learningRate,
    int batchSize,
    int patience,
    long seed,
    Loss loss,
    double weightDecay,
    boolean biasCorrection,
    double ridge,
    Combination combination) {

  /** The training loss on the scaled target. */
  public enum Loss {
    /** Squared error (DJL's L2 loss: half the square). */
    MSE,
    /** Absolute error: a median forecast, robust to heavy-tailed changes such as daily returns. */
    MAE;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Loss named(String name) {
      try {
        return valueOf(name.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown loss '" + name + "': use mse or mae", e);
      }
    }
  }

  /** How the members join a model's highway (the linear autoregression). */
  public enum Combination {
    /** The members learn what the highway leaves and add a share of it: highway + g × members. */
    RESIDUAL,
    /** The members learn the target and the two are blended: (1 - w) × highway + w × members. */
    BLEND,
    /** The highway alone: the members are not trained and take no share. */
    LINEAR,
    /**
     * No change: the last reading (a change target's highway with every coefficient and the mean
     * change at zero); the members are not trained and take no share.
     */
    PERSISTENCE;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public TrainingSettings {
    if (epochs < 1
        || batchSize < 1
        || patience < 0
        || !(learningRate > 0)
        || !(weightDecay >= 0)
        || !(ridge >= 0)
        || loss == null
        || combination == null) {
      throw new IllegalArgumentException(
          "epochs and batch size must be at least 1, patience at least 0, lr positive, a loss"
              + " named");
    }
  }

  /**
   * A builder with the defaults: 200 epochs, Adam 0.002, batch 32, patience 30, seed 42, MSE, no
   * weight decay, no bias correction.
   */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .epochs(epochs)
        .learningRate(learningRate)
        .batchSize(batchSize)
        .patience(patience)
        .seed(seed)
        .loss(loss)
        .weightDecay(weightDecay)
        .biasCorrection(biasCorrection)
        .ridge(ridge)
        .combination(combination);
  }

  public TrainingSettings withEpochs(int n) {
    return toBuilder().epochs(n).build();
  }

  public TrainingSettings withSeed(long n) {
    return toBuilder().seed(n).build();
  }

  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("epochs", Integer.toString(epochs));
    m.put("learningRate", Double.toString(learningRate));
    m.put("batchSize", Integer.toString(batchSize));
    m.put("patience", Integer.toString(patience));
    m.put("seed", Long.toString(seed));
    m.put("loss", loss.wireName());
    m.put("weightDecay", Double.toString(weightDecay));
    m.put("biasCorrection", Boolean.toString(biasCorrection));
    m.put("ridge", Double.toString(ridge));
    m.put("combination", combination.wireName());
    return m;
  }

  /** Builds settings by name. */
  public static final class Builder {
    private int epochs = 200;
    private double learningRate = 0.002;
    private int batchSize = 32;
    private int patience = 30;
    private long seed = 42;
    private Loss loss = Loss.MSE;
    private double weightDecay;
    private boolean biasCorrection;
    private double ridge = LinearFit.OLS;
    private Combination combination = Combination.RESIDUAL;

    private Builder() {}

    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    public Builder learningRate(double v) {
      learningRate = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder patience(int v) {
      patience = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder loss(Loss v) {
      loss = v;
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder biasCorrection(boolean v) {
      biasCorrection = v;
      return this;
    }

    public Builder ridge(double v) {
      ridge = v;
      return this;
    }

    public Builder combination(Combination v) {
      combination = v;
      return this;
    }

    public TrainingSettings build() {
      return new TrainingSettings(
          epochs,
          learningRate,
          batchSize,
          patience,
          seed,
          loss,
          weightDecay,
          biasCorrection,
          ridge,
          combination);
    }
  }
}
