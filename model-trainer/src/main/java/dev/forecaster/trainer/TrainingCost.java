package dev.forecaster.trainer;

import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;

/**
 * What training a network costs, in reference seconds: the seconds it took on the machine the
 * constants below were measured on, estimated from what the training did (epochs run, windows,
 * window length, cell and size), never read from a clock. The search's budget counts these, so it
 * stops at the same candidate and gives the final model the same members on a fast machine, a slow
 * one or a loaded one, wherever the trainings themselves run alike (the epochs a member runs before
 * early stopping depend on its validation losses, which floating-point kernels may change in the
 * last digits on another machine). A slower machine only takes longer.
 *
 * <p>Measured 2026-12-01 on the shared 2-core AMD EPYC VM (DJL 0.35.1, PyTorch 2.7.1 CPU, one
 * intra-op thread, batches of 32): networks of 4, 8 and 16 units, windows of 7 and 14 days, 2 and 4
 * inputs per day, 800 and 1,500 days; seconds per window and epoch fitted as {@code a + b L + c L h
 * (i + h)} (L the window length, h the units, i the inputs per day), within 0.82-1.12 of the
 * measured time; {@code forecast bench training-cost} measures it again on any machine. A GRU's
 * steps cost more than an LSTM's, whose cell runs as one fused kernel. Up to 16 units the size
 * hardly matters; larger networks, other batch sizes and stacked layers are extrapolated.
 */
public final class TrainingCost {

  private TrainingCost() {}

  /** Seconds per window and epoch: fixed, per day of the window, per multiply of a day. */
  private static final double GRU_FIXED = 1.27e-5;

  private static final double GRU_PER_DAY = 3.22e-6;
  private static final double GRU_PER_MULTIPLY = 8.6e-10;
  private static final double LSTM_FIXED = 1.93e-5;
  private static final double LSTM_PER_DAY = 2.9e-7;
  private static final double LSTM_PER_MULTIPLY = 6.8e-11;

  /**
   * Reference seconds per window and epoch, training and validation windows counted alike (as
   * fitted). Stacked layers (not measured) count as more days of the same cell, each layer above
   * the first reading the one below.
   */
  public static double perWindowEpoch(ModelSpec spec) {
    double days = spec.windowLength();
    double h = spec.hiddenSize();
    double steps = days * spec.layers();
    double multiplies = days * h * (spec.inputsPerStep() + h + (spec.layers() - 1) * 2 * h);
    return spec.architecture() == Architecture.GRU
        ? GRU_FIXED + GRU_PER_DAY * steps + GRU_PER_MULTIPLY * multiplies
        : LSTM_FIXED + LSTM_PER_DAY * steps + LSTM_PER_MULTIPLY * multiplies;
  }

  /**
   * Reference seconds of a training of {@code spec}'s members on {@code windows} windows (training
   * and validation), as it ran: each member for the epochs it ran before it stopped.
   */
  public static double of(ModelSpec spec, NetworkTrainer.Result result, int windows) {
    int epochs = result.members().stream().mapToInt(NetworkTrainer.MemberRun::epochsRun).sum();
    return epochs * (double) windows * perWindowEpoch(spec);
  }
}
