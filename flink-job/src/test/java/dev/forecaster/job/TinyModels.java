package dev.forecaster.job;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.History;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.model.Networks;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.trainer.ModelScoring;
import dev.forecaster.trainer.NetworkTrainer;
import dev.forecaster.trainer.Split;
import dev.forecaster.trainer.TrainingSettings;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real GRUs small enough to train in a second (one member, hidden size 4, two epochs on 2012 of the
 * shipped Seattle weather), published as {@code ModelUpdate}s the way the trainer does. One
 * training per seed per JVM; every version is the same weights under a new version number.
 */
final class TinyModels {

  static final String NAME = "weather";
  static final List<String> FEATURES = List.of("temp_max", "temp_min", "precipitation", "wind");
  static final int WINDOW = 5;

  private static final Map<Long, Trained> TRAINED = new ConcurrentHashMap<>();

  private record Trained(ModelSpec spec, List<byte[]> weights) {}

  private TinyModels() {}

  /** Version {@code version} of the model trained from {@code seed}, its artifact inline. */
  static ModelUpdate update(long seed, long version) {
    Trained trained = TRAINED.computeIfAbsent(seed, TinyModels::train);
    ModelSpec published = trained.spec().withVersion(version, 1_700_000_000_000L + version);
    try (LoadedModel model = Networks.assemble(trained.spec(), trained.weights(), Device.cpu())) {
      return ModelUpdates.of(published, ModelArtifact.write(model, published));
    }
  }

  /**
   * A model of {@code horizons} horizons: the networks trained from {@code seed}, {@code seed + 1},
   * ... side by side (as the trainer fuses one network per horizon), each horizon's served
   * intervals starting from {@code residuals}.
   */
  static ModelUpdate horizons(long seed, int horizons, long version, List<Double> residuals) {
    List<Networks.Parts> parts = new ArrayList<>();
    for (int j = 0; j < horizons; j++) {
      Trained trained = TRAINED.computeIfAbsent(seed + j, TinyModels::train);
      parts.add(new Networks.Parts(null, trained.weights(), 1.0));
    }
    double[] r = residuals.stream().mapToDouble(Double::doubleValue).toArray();
    ModelSpec spec =
        TRAINED.get(seed).spec().toBuilder()
            .horizons(horizons)
            .intervals(Conformal.bands(r))
            .calibrationResiduals(residuals)
            .laterIntervals(Collections.nCopies(horizons - 1, Conformal.bands(r)))
            .laterCalibrationResiduals(Collections.nCopies(horizons - 1, residuals))
            .build()
            .withVersion(version, 1_700_000_000_000L + version);
    try (LoadedModel model = Networks.assembleHorizons(spec, parts, Device.cpu())) {
      return ModelUpdates.of(spec, ModelArtifact.write(model, spec));
    }
  }

  /** Every horizon's offline forecast of each window: {@code [window][horizon]}. */
  static double[][] offlineAll(ModelUpdate update, List<List<Reading>> windows) throws Exception {
    try (LoadedModel model = ModelUpdates.load(update, Device.cpu())) {
      return ModelScoring.predictAll(model, windows.stream().map(TinyModels::sample).toList());
    }
  }

  /**
   * The same model with its served intervals starting from {@code residuals} (as the trainer's
   * validation residuals would): the spec and artifact rewritten, the weights unchanged.
   */
  static ModelUpdate calibrated(ModelUpdate update, List<Double> residuals) throws Exception {
    try (LoadedModel model = ModelUpdates.load(update, Device.cpu())) {
      double[] r = residuals.stream().mapToDouble(Double::doubleValue).toArray();
      ModelSpec spec =
          model.spec().toBuilder()
              .calibrationResiduals(residuals)
              .intervals(Conformal.bands(r))
              .build();
      return ModelUpdates.of(spec, ModelArtifact.write(model, spec));
    }
  }

  /**
   * What the model an update carries forecasts for windows of readings (each oldest first, its last
   * {@link #WINDOW} readings read), in one batch, outside Flink.
   */
  static double[] offline(ModelUpdate update, List<List<Reading>> windows) throws Exception {
    try (LoadedModel model = ModelUpdates.load(update, Device.cpu())) {
      return ModelScoring.predict(model, windows.stream().map(TinyModels::sample).toList());
    }
  }

  /** The window of a model with {@link #WINDOW} readings ending at the last of {@code readings}. */
  static Sample sample(List<Reading> readings) {
    List<Reading> last = readings.subList(readings.size() - WINDOW, readings.size());
    double[][] rows = new double[WINDOW][FEATURES.size()];
    int[] epochDays = new int[WINDOW];
    for (int r = 0; r < WINDOW; r++) {
      epochDays[r] = (int) last.get(r).getDay().toEpochDay();
      for (int f = 0; f < FEATURES.size(); f++) {
        rows[r][f] = last.get(r).getFeatures().get(FEATURES.get(f));
      }
    }
    Reading base = last.get(WINDOW - 1);
    return new Sample(
        base.getSeriesId(),
        base.getDay(),
        base.getDay().plusDays(1),
        rows,
        epochDays,
        base.getFeatures().get("temp_max"),
        Double.NaN);
  }

  private static Trained train(long seed) {
    ModelSpec spec =
        ModelSpec.builder()
            .name(NAME)
            .hiddenSize(4)
            .features(FEATURES)
            .calendar(true)
            .target("temp_max")
            .windowLength(WINDOW)
            .build();
    List<Reading> year;
    try {
      year = JobFixture.seattle(LocalDate.of(2012, 1, 1), LocalDate.of(2013, 1, 1));
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the shipped Seattle weather", e);
    }
    List<Sample> samples = Samples.of(History.of(year), spec);
    Split split = Split.chronological(samples, LocalDate.of(2012, 11, 1));
    spec = spec.withScaling(ScalingFit.fit(spec, split.train()));
    NetworkTrainer.Result result =
        NetworkTrainer.train(
            spec,
            TrainingSettings.builder()
                .epochs(2)
                .learningRate(0.01)
                .batchSize(32)
                .patience(0)
                .seed(seed)
                .loss(TrainingSettings.Loss.MSE)
                .biasCorrection(false)
                .build(),
            split.train(),
            split.validation(),
            epoch -> {});
    result.model().close();
    return new Trained(
        spec, result.members().stream().map(NetworkTrainer.MemberRun::weights).toList());
  }
}
