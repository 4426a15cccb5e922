package dev.forecaster.trainer;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.forecaster.model.DjlRuntime;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Networks;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Scaling;
import dev.forecaster.model.WindowEncoder;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits each member of a spec's network on training windows with Adam, watching the validation loss
 * after each epoch; with patience, stops when it has not improved for that many epochs and keeps
 * the weights of the best epoch. Deterministic for a seed (one PyTorch thread, seeded
 * initialisation and shuffle).
 */
public final class NetworkTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(NetworkTrainer.class);

  /**
   * The trained model (caller closes it), how each member's training went, the shift of its scaled
   * output that bias correction applied (0 without), and, with a highway, how much of the members'
   * correction the model takes (1 without), and the model's trained parts (the target scaled as the
   * model's own scaling says), and the forecasts of the validation windows, in real units, by a
   * model that was not fitted on them (the intervals are calibrated on them): the model itself,
   * except for least squares alone, which is refitted on the validation windows too.
   */
  public record Result(
      LoadedModel model,
      List<MemberRun> members,
      double outputShift,
      double gate,
      Networks.Parts parts,
      double[] validationForecasts) {}

  /** One member's training: its weights at the best epoch and its loss curves. */
  public record MemberRun(
      long seed,
      byte[] weights,
      List<Double> trainLoss,
      List<Double> validationLoss,
      int bestEpoch,
      int epochsRun) {}

  /** Held while a member's initial weights are drawn from the engine's global seed. */
  private static final Object SEEDING = new Object();

  private NetworkTrainer() {}

  /**
   * Trains the spec's members, member i from seed {@code settings.seed() + i}, and assembles them.
   * With a highway, the linear autoregression is fitted on the training windows first, and the
   * members join it as {@link TrainingSettings#combination()} says: learning its residuals (scaled
   * to unit variance) and adding a share of them, learning the target and blended with it, or not
   * at all (the highway alone, or persistence in its place). The share (0 to 1) is the one that
   * fits the validation windows best. The highway alone (least squares) is then refitted on the
   * training and validation windows together, as nothing needs the validation windows held out any
   * more but the intervals' calibration ({@link Result#validationForecasts}).
   *
   * @param spec a spec with fitted scaling
   * @param onEpoch called after each epoch of each member (for a progress bar)
   */
  public static Result train(
      ModelSpec spec,
      TrainingSettings settings,
      List<Sample> train,
      List<Sample> validation,
      IntConsumer onEpoch) {
    return train(spec, settings, train, validation, onEpoch, null);
  }

  /**
   * {@link #train} with each member starting from {@code warmStart}'s weights of the same member (a
   * network of the same form trained on a neighbouring target: another horizon), instead of random
   * ones; null starts from random weights.
   */
  public static Result train(
      ModelSpec spec,
      TrainingSettings settings,
      List<Sample> train,
      List<Sample> validation,
      IntConsumer onEpoch,
      List<byte[]> warmStart) {
    if (spec.horizons() != 1) {
      throw new IllegalArgumentException(
          "a network is trained for one horizon; a model of several is one network each");
    }
    TrainingSettings.Combination how =
        spec.highway() ? settings.combination() : TrainingSettings.Combination.BLEND;
    if (how == TrainingSettings.Combination.PERSISTENCE) {
      // the target not centred: the highway's intercept for no change is then exactly 0, and so is
      // every forecast's change, in float as in double (centred, it is -mean / std, rounded)
      Scaling s = spec.scaling();
      spec = spec.withScaling(new Scaling(s.inputMean(), s.inputStd(), 0.0, s.targetStd()));
    }
    WindowEncoder encoder = new WindowEncoder(spec);
    List<Sample> checked = validation.isEmpty() ? train : validation;
    LinearFit highway =
        !spec.highway()
            ? null
            : how == TrainingSettings.Combination.PERSISTENCE
                ? LinearFit.noChange(spec)
                : LinearFit.fit(spec, train, settings.ridge());
    boolean highwayOnly =
        how == TrainingSettings.Combination.LINEAR
            || how == TrainingSettings.Combination.PERSISTENCE;
    boolean residual = how == TrainingSettings.Combination.RESIDUAL;
    Encoded trainSet = Encoded.of(encoder, train, residual ? highway : null);
    Encoded validationSet = Encoded.of(encoder, checked, residual ? highway : null);
    double residualScale =
        residual ? Scaling.safeStd(trainSet.sumOfSquares(), trainSet.count) : 1.0;
    trainSet.divideTargets(residualScale);
    validationSet.divideTargets(residualScale);
    MemberFit fit = new MemberFit(spec, settings, trainSet, validationSet, onEpoch, warmStart);
    List<MemberRun> runs = new ArrayList<>();
    // every scaled input and target 0 (a constant series): the members as initialised already
    // forecast it exactly (no input, no bias: an output of 0), and a step would have no gradient
    boolean nothingToLearn = !highwayOnly && trainSet.allZero();
    if (nothingToLearn) {
      LOG.info(
          "{}: every input and the target are constant on the training windows: the members stay"
              + " as initialised, which forecast exactly that",
          spec.name());
    }
    if (highwayOnly || nothingToLearn) {
      for (int i = 0; i < spec.members(); i++) {
        runs.add(fit.untrained(settings.seed() + i));
      }
    } else {
      runs.addAll(fit.members(settings.seed(), spec.members()));
    }
    List<byte[]> weights = runs.stream().map(MemberRun::weights).toList();
    double share = 1.0;
    if (highway != null) {
      share =
          highwayOnly || validation.isEmpty()
              ? (highwayOnly ? 0.0 : 1.0)
              : share(spec, weights, validation, highway, validationSet, settings.loss(), how);
    }
    Networks.Parts parts = parts(highway, weights, how, share, residualScale);
    Shifted fitted = shifted(spec, settings, parts, validation, how);
    if (how != TrainingSettings.Combination.LINEAR || validation.isEmpty()) {
      double[] checkedForecasts;
      try {
        checkedForecasts =
            validation.isEmpty() ? new double[0] : ModelScoring.predict(fitted.model(), validation);
      } catch (RuntimeException e) {
        fitted.model().close();
        throw e;
      }
      return new Result(fitted.model(), runs, fitted.shift(), share, parts, checkedForecasts);
    }
    // least squares alone needs no windows to stop on: their forecasts by the fit that never saw
    // them calibrate the intervals, and the fit served is refitted on every window, the newest
    // too; whether to shift its output is kept (the search chose it), by how much is the refit's
    // own residual on the validation windows
    double[] heldOut;
    try (LoadedModel notServed = fitted.model()) {
      heldOut = ModelScoring.predict(notServed, validation);
    }
    List<Sample> every = new ArrayList<>(train);
    every.addAll(validation);
    Networks.Parts refitted =
        parts(LinearFit.fit(spec, every, settings.ridge()), weights, how, share, residualScale);
    Shifted served = shifted(spec, settings, refitted, validation, how);
    return new Result(served.model(), runs, served.shift(), share, refitted, heldOut);
  }

  /** A model and the shift of its scaled output that bias correction applied (0 without). */
  private record Shifted(LoadedModel model, double shift) {}

  /**
   * The model of {@code parts}, its output shifted by its mean (or median) residual on the
   * validation windows where the settings ask for bias correction.
   */
  private static Shifted shifted(
      ModelSpec spec,
      TrainingSettings settings,
      Networks.Parts parts,
      List<Sample> validation,
      TrainingSettings.Combination how) {
    LoadedModel model = Networks.assemble(spec, parts, Device.cpu());
    if (!settings.biasCorrection()
        || validation.isEmpty()
        || how == TrainingSettings.Combination.PERSISTENCE) { // no change is no change
      return new Shifted(model, 0);
    }
    double shift;
    try (LoadedModel uncorrected = model) {
      shift = validationBias(uncorrected, validation, settings.loss() == TrainingSettings.Loss.MAE);
    }
    Scaling s = spec.scaling();
    ModelSpec corrected =
        spec.withScaling(
            new Scaling(
                s.inputMean(),
                s.inputStd(),
                s.targetMean() + shift * s.targetStd(),
                s.targetStd()));
    return new Shifted(Networks.assemble(corrected, parts, Device.cpu()), shift);
  }

  /** The model's parts: the highway's coefficients and the members' share, as combined. */
  private static Networks.Parts parts(
      LinearFit highway,
      List<byte[]> weights,
      TrainingSettings.Combination how,
      double share,
      double residualScale) {
    if (highway == null) {
      return new Networks.Parts(null, weights, 1.0);
    }
    double[] coefficients = highway.coefficients();
    if (how == TrainingSettings.Combination.BLEND) {
      for (int i = 0; i < coefficients.length; i++) {
        coefficients[i] *= 1 - share;
      }
      return new Networks.Parts(coefficients, weights, share);
    }
    return new Networks.Parts(coefficients, weights, share * residualScale);
  }

  /**
   * The share (0 to 1, in steps of 0.05) of the members that fits the validation windows best under
   * the training loss: 0 when the members only add noise to the highway.
   *
   * @param targets the validation targets as the members learned them (residuals, or the target)
   */
  static double share(
      ModelSpec spec,
      List<byte[]> weights,
      List<Sample> validation,
      LinearFit highway,
      Encoded targets,
      TrainingSettings.Loss loss,
      TrainingSettings.Combination how) {
    ModelSpec membersOnly = spec.toBuilder().highway(false).build();
    double[] members = new double[validation.size()];
    double[] linear = new double[validation.size()];
    try (LoadedModel model = Networks.assemble(membersOnly, weights, Device.cpu())) {
      double[] predicted = ModelScoring.predict(model, validation);
      for (int i = 0; i < members.length; i++) {
        // networkTarget inverts toRealUnits exactly: the members' own output
        members[i] = model.encoder().networkTarget(validation.get(i).baseValue(), predicted[i]);
        linear[i] = highway.scaled(validation.get(i));
      }
    }
    double best = Double.POSITIVE_INFINITY;
    double share = 0;
    for (int step = 0; step <= 20; step++) {
      double g = step / 20.0;
      double sum = 0;
      for (int i = 0; i < members.length; i++) {
        double d =
            how == TrainingSettings.Combination.BLEND
                ? targets.y[i] - ((1 - g) * linear[i] + g * members[i])
                : targets.y[i] - g * members[i];
        sum += loss == TrainingSettings.Loss.MAE ? Math.abs(d) : d * d;
      }
      if (sum < best - 1e-12) {
        best = sum;
        share = g;
      }
    }
    return share;
  }

  /**
   * Mean (or median) of target minus forecast on the validation windows, in the network's scaled
   * units.
   */
  static double validationBias(LoadedModel model, List<Sample> validation, boolean median) {
    WindowEncoder encoder = model.encoder();
    double[] predicted = ModelScoring.predict(model, validation);
    double[] residuals = new double[validation.size()];
    for (int i = 0; i < residuals.length; i++) {
      Sample s = validation.get(i);
      // networkTarget inverts toRealUnits exactly, so this is the residual of the network's own
      // output
      residuals[i] =
          encoder.networkTarget(s.baseValue(), s.actual())
              - encoder.networkTarget(s.baseValue(), predicted[i]);
    }
    return centre(residuals, median);
  }

  /**
   * The bias shift residuals give: their median where the loss is absolute error (what minimises
   * it), else their mean; 0 for none.
   */
  static double centre(double[] residuals, boolean median) {
    if (residuals.length == 0) {
      return 0;
    }
    if (median) {
      double[] sorted = residuals.clone();
      Arrays.sort(sorted);
      int n = sorted.length;
      return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
    return Arrays.stream(residuals).average().orElse(0);
  }

  /** The training of one member after another on the same encoded windows. */
  private static final class MemberFit {
    private final ModelSpec spec;
    private final TrainingSettings settings;
    private final Encoded trainSet;
    private final Encoded validationSet;
    private final IntConsumer onEpoch;
    private final Loss loss;
    private final int floatsPerWindow;
    private final List<byte[]> warmStart;
    private int next;

    MemberFit(
        ModelSpec spec,
        TrainingSettings settings,
        Encoded trainSet,
        Encoded validationSet,
        IntConsumer onEpoch,
        List<byte[]> warmStart) {
      this.warmStart = warmStart;
      this.spec = spec;
      this.settings = settings;
      this.trainSet = trainSet;
      this.validationSet = validationSet;
      this.onEpoch = onEpoch;
      this.loss = new BatchLoss(settings.loss() == TrainingSettings.Loss.MAE);
      this.floatsPerWindow = spec.windowLength() * spec.inputsPerStep();
    }

    /**
     * A member's initial weights from {@code seed}, untrained (a model whose members take no
     * share).
     */
    MemberRun untrained(long seed) {
      try (Model model = Model.newInstance(spec.name() + "-member", Device.cpu(), "PyTorch")) {
        Block network = Networks.member(spec);
        model.setBlock(network);
        synchronized (SEEDING) {
          DjlRuntime.engine().setRandomSeed((int) seed);
          network.initialize(model.getNDManager(), DataType.FLOAT32, Networks.inputShape(spec));
        }
        return new MemberRun(seed, weights(network), List.of(), List.of(), 0, 0);
      }
    }

    /**
     * Trains {@code n} members from seeds {@code seed}, {@code seed + 1}, ..., one after another:
     * DJL collects gradients for one training at a time in a JVM.
     */
    List<MemberRun> members(long seed, int n) {
      List<MemberRun> runs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        runs.add(member(seed + i));
      }
      return runs;
    }

    /** Trains one member from {@code seed}. */
    MemberRun member(long seed) {
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(loss)
              .optOptimizer(
                  Optimizer.adam()
                      .optLearningRateTracker(Tracker.fixed((float) settings.learningRate()))
                      .optWeightDecays((float) settings.weightDecay())
                      .build())
              .optDevices(new Device[] {Device.cpu()});
      try (Model model = Model.newInstance(spec.name() + "-member", Device.cpu(), "PyTorch")) {
        Block network = Networks.member(spec);
        model.setBlock(network);
        try (Trainer trainer = model.newTrainer(config)) {
          synchronized (
              SEEDING) { // the engine's seed is global: set it and draw the weights at once
            DjlRuntime.engine().setRandomSeed((int) seed);
            int index = next++;
            if (warmStart != null && index < warmStart.size()) {
              // parameters already there are kept by the trainer's initialisation, which only
              // attaches their gradients
              startFrom(network, model.getNDManager(), warmStart.get(index));
            }
            trainer.initialize(
                new Shape(settings.batchSize(), spec.windowLength(), spec.inputsPerStep()));
          }
          return epochs(trainer, network, seed);
        }
      }
    }

    /** Loads trained weights of the same form into the network before its training starts. */
    private void startFrom(Block network, NDManager manager, byte[] weights) {
      try {
        network.initialize(manager, DataType.FLOAT32, Networks.inputShape(spec));
        Networks.loadWeights(network, manager, weights);
      } catch (IOException | MalformedModelException e) {
        throw new IllegalArgumentException(
            "the warm start's weights do not fit the member: " + e.getMessage(), e);
      }
    }

    private MemberRun epochs(Trainer trainer, Block network, long seed) {
      Random shuffle = new Random(seed);
      int[] order = new int[trainSet.count];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      List<Double> trainLosses = new ArrayList<>();
      List<Double> validationLosses = new ArrayList<>();
      double best = Double.POSITIVE_INFINITY;
      byte[] bestWeights = null;
      int bestEpoch = 0;
      int epochsRun = 0;
      int patience = settings.patience();
      for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
        shuffleInPlace(order, shuffle);
        trainLosses.add(epoch(trainer, order));
        double validationLoss = evaluate(trainer);
        validationLosses.add(validationLoss);
        epochsRun = epoch;
        if (validationLoss < best) {
          best = validationLoss;
          bestEpoch = epoch;
          bestWeights = weights(network);
        }
        onEpoch.accept(epoch);
        if (patience > 0 && epoch - bestEpoch >= patience) {
          break;
        }
      }
      // without patience every epoch runs and the last one's weights are the model's
      return new MemberRun(
          seed,
          patience > 0 ? bestWeights : weights(network),
          trainLosses,
          validationLosses,
          patience > 0 ? bestEpoch : epochsRun,
          epochsRun);
    }

    /** One pass over the training windows in {@code order}; the mean training loss. */
    private double epoch(Trainer trainer, int[] order) {
      int batchSize = settings.batchSize();
      float[] xBatch = new float[batchSize * floatsPerWindow];
      float[] yBatch = new float[batchSize];
      double lossSum = 0;
      for (int start = 0; start < order.length; start += batchSize) {
        int b = Math.min(batchSize, order.length - start);
        for (int i = 0; i < b; i++) {
          int s = order[start + i];
          System.arraycopy(
              trainSet.x, s * floatsPerWindow, xBatch, i * floatsPerWindow, floatsPerWindow);
          yBatch[i] = trainSet.y[s];
        }
        try (NDManager batch = trainer.getManager().newSubManager();
            GradientCollector collector = trainer.newGradientCollector()) {
          NDArray x =
              batch.create(
                  FloatBuffer.wrap(xBatch, 0, b * floatsPerWindow),
                  new Shape(b, spec.windowLength(), spec.inputsPerStep()));
          NDArray y = batch.create(FloatBuffer.wrap(yBatch, 0, b), new Shape(b, 1));
          NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
          NDArray value = loss.evaluate(new NDList(y), new NDList(prediction));
          collector.backward(value);
          lossSum += value.getFloat() * b;
        }
        trainer.step();
      }
      return lossSum / order.length;
    }

    /**
     * Mean loss of the network on the validation windows, in evaluation mode (no dropout), on the
     * scaled target.
     */
    private double evaluate(Trainer trainer) {
      Encoded set = validationSet;
      try (NDManager m = trainer.getManager().newSubManager()) {
        NDArray x =
            m.create(set.x, new Shape(set.count, spec.windowLength(), spec.inputsPerStep()));
        float[] p = trainer.evaluate(new NDList(x)).singletonOrThrow().toFloatArray();
        double sum = 0;
        for (int i = 0; i < set.count; i++) {
          double d = p[i] - set.y[i];
          // as DJL's L1 and L2 losses
          sum += settings.loss() == TrainingSettings.Loss.MAE ? Math.abs(d) : d * d / 2;
        }
        return sum / set.count;
      }
    }
  }

  private static byte[] weights(Block network) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      network.saveParameters(new DataOutputStream(out));
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void shuffleInPlace(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /**
   * DJL's L1 and L2 losses: the mean of |label - prediction|, or of (label - prediction)² / 2,
   * every operand an array of the batch's manager. DJL's L2 loss multiplies by its weight (the
   * half) through a scalar that it frees at once, while autograd reads it again in the backward
   * pass: a garbage collection in between frees its memory, and the batch's gradient is scaled by
   * whatever that memory holds by then (two trainings of one seed were seen to differ by degrees).
   * The L1 loss, whose weight is 1, multiplies by nothing; it is here so that both are computed
   * alike.
   */
  private static final class BatchLoss extends Loss {

    private final boolean absolute;

    BatchLoss(boolean absolute) {
      super(absolute ? "L1Loss" : "L2Loss");
      this.absolute = absolute;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
      NDArray prediction = predictions.singletonOrThrow();
      NDArray difference = labels.singletonOrThrow().reshape(prediction.getShape()).sub(prediction);
      if (absolute) {
        return difference.abs().mean();
      }
      // attached to the batch's manager with the difference: alive until the batch is closed,
      // after the backward pass
      NDArray half = difference.getManager().create(0.5f);
      return difference.square().mul(half).mean();
    }
  }

  /** Windows encoded back to back, with scaled targets. */
  private static final class Encoded {
    final float[] x;
    final float[] y;
    final int count;

    private Encoded(float[] x, float[] y, int count) {
      this.x = x;
      this.y = y;
      this.count = count;
    }

    /** Windows and targets; with a highway, the targets are what it leaves to explain. */
    static Encoded of(WindowEncoder encoder, List<Sample> samples, LinearFit highway) {
      int fpw = encoder.floatsPerWindow();
      float[] x = new float[samples.size() * fpw];
      float[] y = new float[samples.size()];
      for (int i = 0; i < samples.size(); i++) {
        Sample s = samples.get(i);
        encoder.encode(s.values(), s.epochDays(), x, i * fpw);
        double target = encoder.networkTarget(s.baseValue(), s.actual());
        y[i] = (float) (highway == null ? target : target - highway.scaled(s));
      }
      return new Encoded(x, y, samples.size());
    }

    /** Whether every input and target is 0: nothing varies. */
    boolean allZero() {
      for (float v : x) {
        if (v != 0) {
          return false;
        }
      }
      for (int i = 0; i < count; i++) {
        if (y[i] != 0) {
          return false;
        }
      }
      return true;
    }

    double sumOfSquares() {
      double sum = 0;
      for (int i = 0; i < count; i++) {
        sum += (double) y[i] * y[i];
      }
      return sum;
    }

    void divideTargets(double by) {
      for (int i = 0; i < count; i++) {
        y[i] = (float) (y[i] / by);
      }
    }
  }
}
