package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
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
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The forecaster network. A member is a GRU or LSTM over the window, its last step, and a dense
 * head. A model is the mean of {@code members} independently trained members, run side by side in
 * one block, so one forward pass scores a batch with all of them (averaging members trained from
 * different seeds cancels much of the variance of one small network on little data).
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

  /** The whole model: the mean of its members' outputs, (batch, window, inputs) → (batch, 1). */
  public static Block build(ModelSpec spec) {
    List<Block> members = new ArrayList<>();
    for (int i = 0; i < spec.members(); i++) {
      members.add(member(spec));
    }
    return new ParallelBlock(Networks::mean, members);
  }

  /**
   * A model from its members' trained weights (each as written by {@code Block.saveParameters} of a
   * {@link #member} block). The caller owns the returned model.
   */
  public static LoadedModel assemble(ModelSpec spec, List<byte[]> memberWeights, Device device) {
    if (memberWeights.size() != spec.members()) {
      throw new IllegalArgumentException(
          spec.members() + " members, " + memberWeights.size() + " sets of weights");
    }
    try {
      return instantiate(
          spec,
          device,
          (network, manager) -> {
            List<Block> children = network.getChildren().values();
            for (int i = 0; i < children.size(); i++) {
              loadWeights(children.get(i), manager, memberWeights.get(i));
            }
          });
    } catch (IOException | MalformedModelException | RuntimeException e) {
      throw new IllegalStateException(
          "member weights do not fit the network of " + spec.name() + ": " + e, e);
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
  static void loadWeights(Block block, NDManager manager, byte[] weights)
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

  private static NDList mean(List<NDList> outputs) {
    NDArray sum = outputs.get(0).singletonOrThrow();
    for (int i = 1; i < outputs.size(); i++) {
      sum = sum.add(outputs.get(i).singletonOrThrow());
    }
    return new NDList(outputs.size() == 1 ? sum : sum.div(outputs.size()));
  }
}
