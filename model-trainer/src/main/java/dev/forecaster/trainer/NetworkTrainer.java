package dev.forecaster.trainer;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
import dev.forecaster.model.Scaling;
import dev.forecaster.model.WindowEncoder;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Fits each member of a spec's network on training windows with Adam, watching the validation
 * loss after each epoch; with patience, stops when it has not improved for that many epochs and
 * keeps the weights of the best epoch. Deterministic for a seed (one PyTorch thread, seeded
 * initialisation and shuffle).
 */
public final class NetworkTrainer {

  /**
   * The trained model (caller closes it), how each member's training went, and the shift of its
   * scaled output that bias correction applied (0 without).
   */
  public record Result(LoadedModel model, List<MemberRun> members, double outputShift) {}

  /** One member's training: its weights at the best epoch and its loss curves. */
  public record MemberRun(long seed, byte[] weights, List<Double> trainLoss, List<Double> validationLoss,
      int bestEpoch, int epochsRun) {}

  private NetworkTrainer() {}

  /**
   * Trains the spec's members, member i from seed {@code settings.seed() + i}, and assembles them.
   *
   * @param spec a spec with fitted scaling
   * @param onEpoch called after each epoch of each member (for a progress bar)
   */
  public static Result train(ModelSpec spec, TrainingSettings settings, List<Sample> train, List<Sample> validation,
      IntConsumer onEpoch) {
    WindowEncoder encoder = new WindowEncoder(spec);
    Encoded trainSet = Encoded.of(encoder, train);
    Encoded validationSet = Encoded.of(encoder, validation.isEmpty() ? train : validation);
    List<MemberRun> runs = new ArrayList<>();
    for (int i = 0; i < spec.members(); i++) {
      runs.add(trainMember(spec, settings, settings.seed() + i, trainSet, validationSet, encoder, onEpoch));
    }
    List<byte[]> weights = runs.stream().map(MemberRun::weights).toList();
    LoadedModel model = Networks.assemble(spec, weights, Device.cpu());
    if (!settings.biasCorrection() || validation.isEmpty()) {
      return new Result(model, runs, 0);
    }
    double shift;
    try (LoadedModel uncorrected = model) {
      shift = validationBias(uncorrected, validation, settings.loss().equals("mae"));
    }
    Scaling s = spec.scaling();
    ModelSpec corrected = spec.withScaling(new Scaling(s.inputMean(), s.inputStd(),
        s.targetMean() + shift * s.targetStd(), s.targetStd()));
    return new Result(Networks.assemble(corrected, weights, Device.cpu()), runs, shift);
  }

  /** Mean (or median) of target minus forecast on the validation windows, in the network's scaled units. */
  static double validationBias(LoadedModel model, List<Sample> validation, boolean median) {
    WindowEncoder encoder = model.encoder();
    double[] predicted = ModelScoring.predict(model, validation);
    double[] residuals = new double[validation.size()];
    for (int i = 0; i < residuals.length; i++) {
      Sample s = validation.get(i);
      // networkTarget inverts toRealUnits exactly, so this is the residual of the network's own output
      residuals[i] = encoder.networkTarget(s.baseValue(), s.actual()) - encoder.networkTarget(s.baseValue(), predicted[i]);
    }
    if (median) {
      java.util.Arrays.sort(residuals);
      int n = residuals.length;
      return n % 2 == 1 ? residuals[n / 2] : (residuals[n / 2 - 1] + residuals[n / 2]) / 2;
    }
    return java.util.Arrays.stream(residuals).average().orElse(0);
  }

  private static MemberRun trainMember(ModelSpec spec, TrainingSettings settings, long seed, Encoded trainSet,
      Encoded validationSet, WindowEncoder encoder, IntConsumer onEpoch) {
    Engine engine = DjlRuntime.engine();
    engine.setRandomSeed((int) seed);
    try (Model model = Model.newInstance(spec.name() + "-member", Device.cpu(), "PyTorch")) {
      Block network = Networks.member(spec);
      model.setBlock(network);
      return trainMember(model, network, spec, settings, seed, trainSet, validationSet, encoder, onEpoch);
    }
  }

  private static MemberRun trainMember(Model model, Block network, ModelSpec spec, TrainingSettings settings, long seed,
      Encoded trainSet, Encoded validationSet, WindowEncoder encoder, IntConsumer onEpoch) {
    int epochs = settings.epochs();
    int patience = settings.patience();
    Loss loss = settings.loss().equals("mae") ? Loss.l1Loss() : Loss.l2Loss();
    DefaultTrainingConfig config = new DefaultTrainingConfig(loss)
        .optOptimizer(Optimizer.adam()
            .optLearningRateTracker(Tracker.fixed((float) settings.learningRate()))
            .optWeightDecays((float) settings.weightDecay())
            .build())
        .optDevices(new Device[] {Device.cpu()});
    List<Double> trainLosses = new ArrayList<>();
    List<Double> validationLosses = new ArrayList<>();
    int bestEpoch = 0;
    int epochsRun = 0;
    try (Trainer trainer = model.newTrainer(config)) {
      int window = spec.windowLength();
      int inputs = spec.inputsPerStep();
      trainer.initialize(new Shape(settings.batchSize(), window, inputs));
      Random shuffle = new Random(seed);
      int[] order = new int[trainSet.count];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      int fpw = encoder.floatsPerWindow();
      float[] xBatch = new float[settings.batchSize() * fpw];
      float[] yBatch = new float[settings.batchSize()];
      double best = Double.POSITIVE_INFINITY;
      byte[] bestWeights = null;
      for (int epoch = 1; epoch <= epochs; epoch++) {
        shuffleInPlace(order, shuffle);
        double lossSum = 0;
        for (int start = 0; start < order.length; start += settings.batchSize()) {
          int b = Math.min(settings.batchSize(), order.length - start);
          for (int i = 0; i < b; i++) {
            int s = order[start + i];
            System.arraycopy(trainSet.x, s * fpw, xBatch, i * fpw, fpw);
            yBatch[i] = trainSet.y[s];
          }
          try (NDManager batch = trainer.getManager().newSubManager();
              GradientCollector collector = trainer.newGradientCollector()) {
            NDArray x = batch.create(java.nio.FloatBuffer.wrap(xBatch, 0, b * fpw), new Shape(b, window, inputs));
            NDArray y = batch.create(java.nio.FloatBuffer.wrap(yBatch, 0, b), new Shape(b, 1));
            NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
            NDArray value = loss.evaluate(new NDList(y), new NDList(prediction));
            collector.backward(value);
            lossSum += value.getFloat() * b;
          }
          trainer.step();
        }
        trainLosses.add(lossSum / order.length);
        double validationLoss = evaluate(trainer, validationSet, spec, settings.loss());
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
      byte[] finalWeights = patience > 0 ? bestWeights : weights(network);
      return new MemberRun(seed, finalWeights, trainLosses, validationLosses, patience > 0 ? bestEpoch : epochsRun,
          epochsRun);
    }
  }

  /** Mean loss of the network on a set, in evaluation mode (no dropout), on the scaled target. */
  private static double evaluate(Trainer trainer, Encoded set, ModelSpec spec, String loss) {
    try (NDManager m = trainer.getManager().newSubManager()) {
      NDArray x = m.create(set.x, new Shape(set.count, spec.windowLength(), spec.inputsPerStep()));
      float[] p = trainer.evaluate(new NDList(x)).singletonOrThrow().toFloatArray();
      double sum = 0;
      for (int i = 0; i < set.count; i++) {
        double d = p[i] - set.y[i];
        sum += loss.equals("mae") ? Math.abs(d) : d * d / 2; // as DJL's L1 and L2 losses
      }
      return sum / set.count;
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

    static Encoded of(WindowEncoder encoder, List<Sample> samples) {
      int fpw = encoder.floatsPerWindow();
      float[] x = new float[samples.size() * fpw];
      float[] y = new float[samples.size()];
      for (int i = 0; i < samples.size(); i++) {
        Sample s = samples.get(i);
        encoder.encode(s.values(), s.epochDays(), x, i * fpw);
        y[i] = (float) encoder.networkTarget(s.baseValue(), s.actual());
      }
      return new Encoded(x, y, samples.size());
    }
  }
}
