package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import java.util.ArrayList;
import java.util.List;

/**
 * The serving form of a model: every network of every horizon and member computed together, one
 * tensor operation for all of them where {@link Networks#build} runs them one after another.
 *
 * <p>A model of H horizons and M members holds K = H × M small recurrent networks that all read the
 * same window. Run as a {@code ParallelBlock}, a forward pass costs K calls of the recurrent layer,
 * each a few dozen tensor operations on tiny matrices, so its cost grows with K whatever the batch.
 * Here the K networks' weights are stacked: the input projection of the first layer is one matrix
 * product for all networks and steps; the recurrent step is one batched matrix product over the K
 * networks' own hidden-to-hidden matrices (never a block-diagonal K·h square, which would multiply
 * the arithmetic by K); gates, heads, the members' mean and the highways are a handful of
 * operations on (K, batch, ·) tensors. Same arithmetic as the per-network form, in about fifteen
 * operations per window step instead of K times as many; the outputs agree to float rounding
 * ({@code FusedNetworkTest}). Inference only: the trainer trains the per-network form, whose
 * parameters the artifact stores.
 */
final class FusedNetwork {

  private final ModelSpec spec;
  private final int nets;
  private final int hidden;
  private final int gates;
  private final int window;
  private final int inputs;
  private final boolean gru;
  private final NDArray firstInput;
  private final NDArray firstInputBias;
  private final List<NDArray> laterInput = new ArrayList<>();
  private final List<NDArray> laterInputBias = new ArrayList<>();
  private final List<NDArray> recurrent = new ArrayList<>();
  private final List<NDArray> recurrentBias = new ArrayList<>();
  // each layer's recurrent bias split by gate, once: the first step (state zero) uses it alone, and
  // splitting a model array per pass would leave the pieces on the model's manager until it closes
  private final List<NDList> recurrentBiasGates = new ArrayList<>();
  private final NDArray head;
  private final NDArray headBias;
  private final NDArray highway;
  private final NDArray highwayBias;

  private FusedNetwork(ModelSpec spec, Block network, NDManager manager) {
    this.spec = spec;
    this.nets = spec.horizons() * spec.members();
    this.hidden = spec.hiddenSize();
    this.gru = spec.architecture() == Architecture.GRU;
    this.gates = gru ? 3 : 4;
    this.window = spec.windowLength();
    this.inputs = spec.inputsPerStep();
    int gh = gates * hidden;
    List<Block> members = new ArrayList<>();
    List<Block> highways = new ArrayList<>();
    for (int j = 0; j < spec.horizons(); j++) {
      Block own =
          spec.horizons() == 1
              ? network
              : network.getChildren().values().get(j).getChildren().values().get(1);
      Block ensemble = own;
      if (spec.highway()) {
        highways.add(own.getChildren().values().get(0).getChildren().values().get(1));
        ensemble = own.getChildren().values().get(1);
      }
      members.addAll(ensemble.getChildren().values());
    }
    // first layer's input projection: (inputs, K·G·h), network k's gates in its own column run
    float[] w0 = new float[inputs * nets * gh];
    float[] b0 = new float[nets * gh];
    for (int k = 0; k < nets; k++) {
      Block cell = members.get(k).getChildren().values().get(0);
      float[] w = parameter(cell, "l_0_i2h_WEIGHT"); // (G·h, inputs), PyTorch's gate order
      float[] b = parameter(cell, "l_0_i2h_BIAS");
      for (int r = 0; r < gh; r++) {
        for (int c = 0; c < inputs; c++) {
          w0[c * nets * gh + k * gh + r] = w[r * inputs + c];
        }
        b0[k * gh + r] = b[r];
      }
    }
    firstInput = manager.create(w0, new Shape(inputs, (long) nets * gh));
    firstInputBias = manager.create(b0, new Shape((long) nets * gh));
    for (int l = 0; l < spec.layers(); l++) {
      if (l > 0) {
        laterInput.add(stacked(manager, members, "l_" + l + "_i2h_WEIGHT", hidden, gh));
        laterInputBias.add(
            stackedBias(manager, members, "l_" + l + "_i2h_BIAS", gh).reshape(nets, 1, 1, gh));
      }
      recurrent.add(stacked(manager, members, "l_" + l + "_h2h_WEIGHT", hidden, gh));
      recurrentBias.add(
          stackedBias(manager, members, "l_" + l + "_h2h_BIAS", gh).reshape(nets, 1, gh));
      recurrentBiasGates.add(recurrentBias.get(l).split(gates, 2));
    }
    // heads: (K, h, 1), already divided by M so that summing a horizon's members gives their mean
    float[] hw = new float[nets * hidden];
    float[] hb = new float[nets];
    for (int k = 0; k < nets; k++) {
      List<Block> layers = members.get(k).getChildren().values();
      Block linear = layers.get(layers.size() - 1);
      float[] w = parameter(linear, "weight");
      for (int i = 0; i < hidden; i++) {
        hw[k * hidden + i] = w[i] / spec.members();
      }
      hb[k] = parameter(linear, "bias")[0] / spec.members();
    }
    head = manager.create(hw, new Shape(nets, hidden, 1));
    headBias = manager.create(hb, new Shape(nets, 1, 1));
    if (spec.highway()) {
      int flat = window * inputs;
      float[] w = new float[flat * spec.horizons()];
      float[] b = new float[spec.horizons()];
      for (int j = 0; j < spec.horizons(); j++) {
        float[] coefficients = parameter(highways.get(j), "weight");
        for (int c = 0; c < flat; c++) {
          w[c * spec.horizons() + j] = coefficients[c];
        }
        b[j] = parameter(highways.get(j), "bias")[0];
      }
      highway = manager.create(w, new Shape(flat, spec.horizons()));
      highwayBias = manager.create(b, new Shape(spec.horizons()));
    } else {
      highway = null;
      highwayBias = null;
    }
  }

  /**
   * A model on {@code device} that computes what {@code network} (the block {@link Networks#build}
   * made for {@code spec}, weights loaded) computes. The caller closes it; it shares nothing with
   * {@code network}.
   */
  static Model serving(ModelSpec spec, Block network, Device device) {
    Model model =
        Model.newInstance(spec.name() + "-v" + spec.version() + "-fused", device, "PyTorch");
    try {
      FusedNetwork fused = new FusedNetwork(spec, network, model.getNDManager());
      model.setBlock(new LambdaBlock(fused::forward, "fusedNetworks"));
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** (batch, window, inputs) → (batch, horizons). */
  private NDList forward(NDList in) {
    NDArray x = in.head();
    long batch = x.getShape().get(0);
    int gh = gates * hidden;
    // (batch·window, inputs) × (inputs, K·G·h) → (K, batch, window, G·h)
    NDArray projected =
        x.reshape(batch * window, inputs)
            .matMul(firstInput)
            .add(firstInputBias)
            .reshape(batch, window, nets, gh)
            .transpose(2, 0, 1, 3);
    NDArray last = null;
    for (int l = 0; l < spec.layers(); l++) {
      if (l > 0) {
        projected =
            last.reshape(nets, batch * window, hidden)
                .batchMatMul(laterInput.get(l - 1))
                .reshape(nets, batch, window, gh)
                .add(laterInputBias.get(l - 1));
      }
      boolean keepSequence = l < spec.layers() - 1;
      List<NDArray> steps = new ArrayList<>();
      NDArray h = null;
      NDArray c = null;
      for (int t = 0; t < window; t++) {
        NDArray fromInput = projected.get(":, :, " + t + ", :");
        // the state's part of the gates; at the first step (state zero) the bias alone
        NDList fromState =
            h == null
                ? recurrentBiasGates.get(l)
                : h.batchMatMul(recurrent.get(l)).add(recurrentBias.get(l)).split(gates, 2);
        NDList xi = fromInput.split(gates, 2);
        if (gru) {
          NDArray reset = Activation.sigmoid(xi.get(0).add(fromState.get(0)));
          NDArray update = Activation.sigmoid(xi.get(1).add(fromState.get(1)));
          NDArray candidate = xi.get(2).add(reset.mul(fromState.get(2))).tanh();
          // h' = (1 − z)·n + z·h; the first step starts from h = 0
          h =
              h == null
                  ? candidate.sub(update.mul(candidate))
                  : candidate.add(update.mul(h.sub(candidate)));
        } else {
          NDArray input = Activation.sigmoid(xi.get(0).add(fromState.get(0)));
          NDArray cellInput = xi.get(2).add(fromState.get(2)).tanh();
          c =
              c == null
                  ? input.mul(cellInput)
                  : Activation.sigmoid(xi.get(1).add(fromState.get(1)))
                      .mul(c)
                      .add(input.mul(cellInput));
          h = Activation.sigmoid(xi.get(3).add(fromState.get(3))).mul(c.tanh());
        }
        if (keepSequence) {
          steps.add(h);
        }
      }
      last = keepSequence ? NDArrays.stack(new NDList(steps), 2) : h;
    }
    // each network's head on its last state, then each horizon's members summed (the mean)
    NDArray out =
        last.batchMatMul(head)
            .add(headBias)
            .reshape(spec.horizons(), spec.members(), batch)
            .sum(new int[] {1})
            .transpose(1, 0);
    if (highway != null) {
      out = out.add(x.reshape(batch, (long) window * inputs).matMul(highway).add(highwayBias));
    }
    return new NDList(out);
  }

  /** Every network's matrix {@code key} as (K, from, G·h): network k's, transposed. */
  private NDArray stacked(NDManager manager, List<Block> members, String key, int from, int gh) {
    float[] all = new float[nets * from * gh];
    for (int k = 0; k < nets; k++) {
      float[] w = parameter(members.get(k).getChildren().values().get(0), key); // (G·h, from)
      for (int r = 0; r < gh; r++) {
        for (int c = 0; c < from; c++) {
          all[k * from * gh + c * gh + r] = w[r * from + c];
        }
      }
    }
    return manager.create(all, new Shape(nets, from, gh));
  }

  private NDArray stackedBias(NDManager manager, List<Block> members, String key, int gh) {
    float[] all = new float[nets * gh];
    for (int k = 0; k < nets; k++) {
      System.arraycopy(
          parameter(members.get(k).getChildren().values().get(0), key), 0, all, k * gh, gh);
    }
    return manager.create(all, new Shape((long) nets * gh));
  }

  /** The values of the parameter of {@code block} whose name ends in {@code suffix}. */
  private static float[] parameter(Block block, String suffix) {
    for (var p : block.getParameters()) {
      if (p.getKey().equals(suffix) || p.getKey().endsWith("_" + suffix)) {
        return p.getValue().getArray().toFloatArray();
      }
    }
    throw new IllegalArgumentException("no parameter " + suffix + " in " + block);
  }
}
