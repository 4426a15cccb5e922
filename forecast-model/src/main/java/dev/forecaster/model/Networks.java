package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.training.initializer.Initializer;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The forecaster network. A member is a GRU or LSTM over the window, its last step, and a dense
 * head. A model is the mean of {@code members} independently trained members, run side by side in
 * one block, so one forward pass scores a batch with all of them (averaging members trained from
 * different seeds cancels much of the variance of one small network on little data). With a
 * highway, a linear autoregression over the window is added to that mean: fitted in closed form, it
 * carries the forecast, and the members (trained on its residuals, their output scaled by how much
 * they help on validation) only correct it, so the model cannot fall far below least squares.
 */
public final class Networks {

  private Networks() {}

  /** One member: input (batch, window, inputs) → output (batch, 1). */
  public static Block member(ModelSpec spec) {
    RecurrentBlock recurrent;
    if (spec.architecture() == Architecture.GRU) {
      recurrent =
          GRU.builder()
              .setStateSize(spec.hiddenSize())
              .setNumLayers(spec.layers())
              .optDropRate(spec.dropout())
              .optBatchFirst(true)
              .optReturnState(false)
              .build();
    } else {
      LstmKernelCheck.verify(); // measured once: PyTorch's LSTM is wrong on some CPUs
      recurrent =
          LSTM.builder()
              .setStateSize(spec.hiddenSize())
              .setNumLayers(spec.layers())
              .optDropRate(spec.dropout())
              .optBatchFirst(true)
              .optReturnState(false)
              .build();
    }
    return new SequentialBlock()
        .add(recurrent)
        .add(new LambdaBlock(Networks::lastStep, "lastStep"))
        .add(Linear.builder().setUnits(1).build());
  }

  /**
   * The whole model, (batch, window, inputs) → (batch, horizons). For one horizon, (batch, 1): the
   * mean of its members' outputs, plus, with {@link ModelSpec#highway()}, a linear autoregression
   * over the flattened window (the highway of LSTNet): the members then forecast a correction to
   * the linear forecast. For several horizons, one such network per horizon side by side (the
   * direct strategy, each trained on its own horizon), their outputs as columns: one forward pass
   * scores every horizon.
   */
  public static Block build(ModelSpec spec) {
    if (spec.horizons() > 1) {
      // one network per horizon side by side: one forward pass gives (batch, horizons)
      List<Block> outputs = new ArrayList<>();
      for (int j = 0; j < spec.horizons(); j++) {
        // each horizon reads the window alone: a recurrent layer appends its initial states to
        // the input list it is given, which the next horizon's highway must not see
        outputs.add(
            new SequentialBlock()
                .add(new LambdaBlock(Networks::windowOnly, "windowOnly"))
                .add(build(spec.output(j))));
      }
      return new ParallelBlock(Networks::concat, outputs);
    }
    List<Block> members = new ArrayList<>();
    for (int i = 0; i < spec.members(); i++) {
      members.add(member(spec));
    }
    Block ensemble = new ParallelBlock(Networks::mean, members);
    if (!spec.highway()) {
      return ensemble;
    }
    Block highway =
        new SequentialBlock()
            .add(new LambdaBlock(Networks::flatten, "flatten"))
            .add(Linear.builder().setUnits(1).build());
    return new ParallelBlock(Networks::sum, List.of(highway, ensemble));
  }

  /**
   * The trained parts of a model.
   *
   * @param highway the linear autoregression's coefficients over the encoded window, the intercept
   *     last; null without a highway
   * @param members each member's weights, as {@code Block.saveParameters} of a {@link #member}
   *     block writes them
   * @param memberScale what each member's output is multiplied by (its head's weights are): how
   *     much of the members' correction the model takes, in the units of the scaled target
   * @param memberShift what is added to each member's output (to its head's bias) after that
   */
  public record Parts(
      double[] highway, List<byte[]> members, double memberScale, double memberShift) {

    public Parts(double[] highway, List<byte[]> members, double memberScale) {
      this(highway, members, memberScale, 0.0);
    }

    /**
     * The same model with its output multiplied by {@code scale}, then {@code shift} added: how a
     * network trained on a target scaled one way gives it scaled another way.
     */
    public Parts affine(double scale, double shift) {
      if (highway == null) {
        return new Parts(null, members, memberScale * scale, memberShift * scale + shift);
      }
      double[] h = highway.clone();
      for (int i = 0; i < h.length; i++) {
        h[i] *= scale;
      }
      h[h.length - 1] += shift;
      return new Parts(h, members, memberScale * scale, memberShift * scale);
    }
  }

  /**
   * A model from its members' trained weights (each as written by {@code Block.saveParameters} of a
   * {@link #member} block). The caller owns the returned model.
   */
  public static LoadedModel assemble(ModelSpec spec, List<byte[]> memberWeights, Device device) {
    return assemble(spec, new Parts(null, memberWeights, 1.0), device);
  }

  /** A model from its trained parts. The caller owns the returned model. */
  public static LoadedModel assemble(ModelSpec spec, Parts parts, Device device) {
    return assembleHorizons(spec, List.of(parts), device);
  }

  /**
   * A model of one or more horizons from the trained parts of each (in horizon order, all trained
   * on the target scaled as {@code spec}'s scaling says). The caller owns the returned model.
   */
  public static LoadedModel assembleHorizons(
      ModelSpec spec, List<Parts> perHorizon, Device device) {
    if (perHorizon.size() != spec.horizons()) {
      throw new IllegalArgumentException(
          spec.horizons() + " horizons, " + perHorizon.size() + " sets of parts");
    }
    for (Parts parts : perHorizon) {
      if (parts.members().size() != spec.members()) {
        throw new IllegalArgumentException(
            spec.members() + " members, " + parts.members().size() + " sets of weights");
      }
      if (spec.highway() != (parts.highway() != null)) {
        throw new IllegalArgumentException(
            "the spec " + (spec.highway() ? "has" : "has no") + " highway, the parts disagree");
      }
    }
    try {
      return instantiate(
          spec,
          device,
          (network, manager) -> {
            if (spec.horizons() == 1) {
              load(spec, network, perHorizon.get(0), manager);
              return;
            }
            List<Block> outputs = network.getChildren().values();
            for (int j = 0; j < outputs.size(); j++) {
              Block own = outputs.get(j).getChildren().values().get(1); // after windowOnly
              load(spec, own, perHorizon.get(j), manager);
            }
          });
    } catch (IOException | MalformedModelException | RuntimeException e) {
      throw new IllegalStateException(
          "the trained parts do not fit the network of " + spec.name() + ": " + e, e);
    }
  }

  /** Puts one horizon's parts into its network. */
  private static void load(ModelSpec spec, Block network, Parts parts, NDManager manager)
      throws IOException, MalformedModelException {
    Block ensemble = network;
    if (spec.highway()) {
      List<Block> branches = network.getChildren().values();
      setLinear(branches.get(0), parts.highway());
      ensemble = branches.get(1);
    }
    List<Block> children = ensemble.getChildren().values();
    for (int i = 0; i < children.size(); i++) {
      loadWeights(children.get(i), manager, parts.members().get(i));
      if (parts.memberScale() != 1.0 || parts.memberShift() != 0.0) {
        List<Block> layers = children.get(i).getChildren().values();
        for (var p : layers.get(layers.size() - 1).getParameters()) {
          NDArray array = p.getValue().getArray();
          array.muli((float) parts.memberScale());
          if (!p.getKey().endsWith("weight")) {
            array.addi((float) parts.memberShift());
          }
        }
      }
    }
  }

  /** Sets the weights and bias of the linear layer in {@code block} to {@code coefficients}. */
  private static void setLinear(Block block, double[] coefficients) {
    int k = coefficients.length - 1;
    float[] weight = new float[k];
    for (int i = 0; i < k; i++) {
      weight[i] = (float) coefficients[i];
    }
    for (var p : block.getParameters()) {
      NDArray array = p.getValue().getArray();
      if (p.getKey().endsWith("weight")) {
        if (array.getShape().size() != k) {
          throw new IllegalArgumentException(
              "the highway reads " + array.getShape().size() + " inputs, " + k + " coefficients");
        }
        array.set(FloatBuffer.wrap(weight));
      } else {
        array.set(FloatBuffer.wrap(new float[] {(float) coefficients[k]}));
      }
    }
  }

  /** Puts trained weights into the freshly initialised network of a spec. */
  @FunctionalInterface
  interface Weights {
    void loadInto(Block network, NDManager manager) throws IOException, MalformedModelException;
  }

  /**
   * The network of {@code spec} on {@code device} with {@code weights} loaded, ready to score
   * (weights that do not fit throw, and the half-built model is closed). Loaded parameters carry no
   * gradient, so scoring builds no autograd graph on any thread.
   */
  static LoadedModel instantiate(ModelSpec spec, Device device, Weights weights)
      throws IOException, MalformedModelException {
    DjlRuntime.engine();
    Model model = Model.newInstance(spec.name() + "-v" + spec.version(), device, "PyTorch");
    try {
      Block network = build(spec);
      model.setBlock(network);
      // zeros, overwritten by the weights: a random initialisation would draw from the engine's
      // global generator, which a training in this JVM (the demo's round beside its job) has just
      // seeded for its members' initial weights
      network.setInitializer(Initializer.ZEROS, parameter -> true);
      network.initialize(model.getNDManager(), DataType.FLOAT32, inputShape(spec));
      weights.loadInto(network, model.getNDManager());
      return new LoadedModel(model, spec);
    } catch (IOException | MalformedModelException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Loads weights into an initialised block and checks that every parameter kept its shape: DJL
   * itself takes whatever shapes the stream holds, so weights of another network would load and
   * fail (or worse, not) only when scoring.
   */
  public static void loadWeights(Block block, NDManager manager, byte[] weights)
      throws IOException, MalformedModelException {
    Map<String, Shape> expected = new LinkedHashMap<>();
    block
        .getParameters()
        .forEach(p -> expected.put(p.getKey(), p.getValue().getArray().getShape()));
    block.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(weights)));
    for (var p : block.getParameters()) {
      Shape loaded = p.getValue().getArray().getShape();
      if (!loaded.equals(expected.get(p.getKey()))) {
        throw new MalformedModelException(
            "parameter "
                + p.getKey()
                + " has shape "
                + loaded
                + ", the network needs "
                + expected.get(p.getKey()));
      }
    }
  }

  /** Shape of one input window, batch 1. */
  public static Shape inputShape(ModelSpec spec) {
    return new Shape(1, spec.windowLength(), spec.inputsPerStep());
  }

  private static NDList lastStep(NDList sequence) {
    return new NDList(sequence.singletonOrThrow().get(":, -1, :"));
  }

  private static NDList flatten(NDList window) {
    NDArray x = window.singletonOrThrow();
    return new NDList(x.reshape(x.getShape().get(0), -1));
  }

  private static NDList windowOnly(NDList inputs) {
    return new NDList(inputs.head());
  }

  private static NDList concat(List<NDList> outputs) {
    NDList columns = new NDList(outputs.size());
    outputs.forEach(o -> columns.add(o.singletonOrThrow()));
    return new NDList(NDArrays.concat(columns, 1));
  }

  private static NDList sum(List<NDList> outputs) {
    return new NDList(outputs.get(0).singletonOrThrow().add(outputs.get(1).singletonOrThrow()));
  }

  private static NDList mean(List<NDList> outputs) {
    NDArray sum = outputs.get(0).singletonOrThrow();
    for (int i = 1; i < outputs.size(); i++) {
      sum = sum.add(outputs.get(i).singletonOrThrow());
    }
    return new NDList(outputs.size() == 1 ? sum : sum.div(outputs.size()));
  }
}
