package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.Architecture;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.History;
import dev.forecaster.model.IntervalBand;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ReadingDays;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.Scaling;
import dev.forecaster.model.ScalingFit;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrainingRunTest {

  private static final Clock CLOCK = Clock.systemUTC();

  @Test
  void aTrainedModelSavedAndLoadedPredictsIdentically() throws Exception {
    History history = WeatherSlice.history();
    ModelSpec spec = WeatherSlice.spec("slice", Architecture.LSTM, 2);
    Split split = Split.chronological(Samples.of(history, spec), WeatherSlice.TEST_FROM);
    spec = spec.withScaling(ScalingFit.fit(spec, split.train()));

    NetworkTrainer.Result trained =
        NetworkTrainer.train(
            spec, WeatherSlice.settings(8), split.train(), split.validation(), e -> {});
    try (LoadedModel model = trained.model()) {
      double[] before = ModelScoring.predict(model, split.test());
      byte[] artifact = ModelArtifact.write(model);
      try (LoadedModel loaded =
          ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu())) {
        assertThat(ModelScoring.predict(loaded, split.test())).containsExactly(before);
      }
      assertThat(trained.members())
          .hasSize(2)
          .allSatisfy(m -> assertThat(m.trainLoss()).hasSize(8));
      // it learned something: better than its first epoch on the training windows
      assertThat(trained.members().get(0).trainLoss().get(7))
          .isLessThan(trained.members().get(0).trainLoss().get(0));
    }
  }

  @ParameterizedTest
  @EnumSource(TrainingSettings.Loss.class)
  void theSameSeedTrainsTheSameModelWhateverTheGarbageCollectorDoes(TrainingSettings.Loss loss)
      throws Exception {
    TrainingRun.Request request =
        TrainingRun.Request.backtest(
            WeatherSlice.spec("slice", Architecture.GRU, 1),
            WeatherSlice.settings(5).toBuilder().loss(loss).build(),
            WeatherSlice.TEST_FROM);
    // full collections all through the trainings: DJL's L2 loss scales the gradient by a scalar
    // it frees before the backward pass reads it, and a collection in between changed the model
    // (by degrees, in most runs here); a training must not depend on when the JVM collects
    AtomicBoolean training = new AtomicBoolean(true);
    Thread collector =
        new Thread(
            () -> {
              while (training.get()) {
                System.gc();
                LockSupport.parkNanos(1_000_000);
              }
            },
            "collector");
    collector.setDaemon(true);
    collector.start();
    List<double[]> forecasts = new ArrayList<>();
    try {
      for (int run = 0; run < 3; run++) {
        TrainingRun.Outcome o =
            new TrainingRun(CLOCK).run(WeatherSlice.history(), request, e -> {});
        assertThat(o.decision()).isEqualTo(TrainingRun.Decision.NOT_PUBLISHED);
        forecasts.add(o.predicted());
      }
    } finally {
      training.set(false);
      collector.join();
    }

    // the same to a ten-thousandth of a degree (another seed moves forecasts by degrees); not
    // asserted bit for bit, so that a floating-point kernel that rounds by the alignment of its
    // memory does not fail it
    for (double[] again : forecasts.subList(1, forecasts.size())) {
      assertThat(again).containsExactly(forecasts.get(0), within(1e-4));
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void aConstantSeriesTrainsANetworkThatForecastsItExactly(Architecture cell) {
    // every input and the target the same every day (a stuck sensor): scaled, every window is 0, a
    // training step has no gradient (DJL refuses it), and the members as initialised forecast it
    History constant =
        History.ofFile(
            SeriesGenerator.generate(SeriesGenerator.Kind.SEASONAL, 1, 400, 1).stream()
                .map(
                    r ->
                        Reading.newBuilder(r).setFeatures(Map.of("value", 5.0, "aux", 1.0)).build())
                .toList());
    ModelSpec spec =
        ModelSpec.builder()
            .name("stuck")
            .features(List.of("value", "aux"))
            .target("value")
            .architecture(cell)
            .members(2)
            .build();

    TrainingRun.Outcome o =
        new TrainingRun(CLOCK)
            .run(
                constant,
                TrainingRun.Request.backtest(spec, WeatherSlice.settings(5), null),
                e -> {});

    assertThat(o.spec().members()).isEqualTo(2);
    assertThat(o.members()).allSatisfy(m -> assertThat(m.epochsRun()).isZero());
    assertThat(o.predicted()).isNotEmpty().containsOnly(5.0);
    assertThat(o.model().mae()).isZero();
  }

  @Test
  void aSeriesFirstSeenInTheTestPeriodAtAnotherLevelGetsPersistenceFromALevelModel() {
    // a station that joined after the training period, 80 degrees warmer than the one the level
    // model was fitted on: its forecasts would be the old station's levels; it gets persistence
    List<Reading> old = SeriesGenerator.generate(SeriesGenerator.Kind.SEASONAL, 1, 500, 2);
    LocalDate testFrom = SeriesGenerator.START.plusDays(400);
    List<Reading> readings = new ArrayList<>(old);
    old.stream()
        .filter(r -> !r.getDay().isBefore(testFrom.minusDays(20)))
        .map(
            r ->
                Reading.newBuilder(r)
                    .setSeriesId("joined")
                    .setFeatures(
                        Map.of(
                            "value",
                            r.getFeatures().get("value") + 80,
                            "aux",
                            r.getFeatures().get("aux")))
                    .build())
        .forEach(readings::add);
    ModelSpec spec = valueModel("stations", "value", "aux");

    TrainingRun.Outcome o =
        new TrainingRun(CLOCK)
            .run(
                History.ofFile(readings),
                TrainingRun.Request.backtest(spec, WeatherSlice.settings(5), testFrom),
                e -> {});

    List<Sample> test = o.test();
    assertThat(test).extracting(Sample::seriesId).contains("joined", "seasonal-1");
    for (int i = 0; i < test.size(); i++) {
      Sample t = test.get(i);
      if (t.seriesId().equals("joined")) {
        assertThat(o.predicted()[i]).isEqualTo(t.baseValue());
      } else {
        assertThat(o.predicted()[i]).isNotEqualTo(t.baseValue()); // the model's own forecast
      }
    } // and the backtest says how many
    assertThat(o.outsideFittedLevels())
        .isEqualTo(test.stream().filter(t -> t.seriesId().equals("joined")).count());
  }

  /** One network forecasting the generated series' value from {@code features}. */
  private static ModelSpec valueModel(String name, String... features) {
    return ModelSpec.builder()
        .name(name)
        .features(List.of(features))
        .target("value")
        .members(1)
        .build();
  }

  @Test
  void aHistoryWithoutTheModelsFeaturesSaysSoInsteadOfBeingTooShort() {
    // readings of another model on the topic, or a mistyped feature: no window could be cut
    List<Reading> readings = SeriesGenerator.generate(SeriesGenerator.Kind.SEASONAL, 1, 200, 2);
    ModelSpec spec = valueModel("typo", "value", "auxx");

    Assertions.assertThatThrownBy(
            () ->
                new TrainingRun(CLOCK)
                    .run(
                        History.ofFile(readings),
                        TrainingRun.Request.backtest(spec, WeatherSlice.settings(5), null),
                        e -> {}))
        .isInstanceOf(TrainingDataException.class) // a round logs it without a stack trace
        .hasMessage(
            "no reading carries all of the model's features [value, auxx] (200 readings of 1"
                + " series, none with all of them): check the model's features and target, or the"
                + " readings");
    Assertions.assertThatThrownBy(
            () ->
                new TrainingRun(CLOCK)
                    .run(
                        History.ofFile(List.of()),
                        TrainingRun.Request.backtest(spec, WeatherSlice.settings(5), null),
                        e -> {}))
        .isInstanceOf(TrainingDataException.class)
        .hasMessage(
            "no readings to train on: the history is empty (0 invalid, 0 repeated days and 0 late"
                + " readings dropped)");
  }

  @Test
  void aWarmStartedMemberStartsWhereTheWeightsItWasGivenEnded() {
    History history = WeatherSlice.history();
    ModelSpec spec = WeatherSlice.spec("slice", Architecture.GRU, 1);
    Split split = Split.chronological(Samples.of(history, spec), WeatherSlice.TEST_FROM);
    ModelSpec fitted = spec.withScaling(ScalingFit.fit(spec, split.train()));
    NetworkTrainer.Result first =
        NetworkTrainer.train(
            fitted, WeatherSlice.settings(12), split.train(), split.validation(), e -> {});
    first.model().close();
    TrainingSettings still =
        WeatherSlice.settings(1).toBuilder().learningRate(1e-9).seed(7).build();
    List<byte[]> trained = first.members().stream().map(NetworkTrainer.MemberRun::weights).toList();
    NetworkTrainer.Result warm =
        NetworkTrainer.train(fitted, still, split.train(), split.validation(), e -> {}, trained);
    NetworkTrainer.Result cold =
        NetworkTrainer.train(fitted, still, split.train(), split.validation(), e -> {});
    warm.model().close();
    cold.model().close();

    double trainedLoss = first.members().get(0).validationLoss().get(11);
    assertThat(warm.members().get(0).validationLoss().get(0)).isCloseTo(trainedLoss, within(1e-4));
    assertThat(cold.members().get(0).validationLoss().get(0)).isGreaterThan(2 * trainedLoss);
  }

  @Test
  void aModelOfSeveralHorizonsIsTheOneHorizonModelPlusANetworkPerLaterHorizon() throws Exception {
    ModelSpec one = WeatherSlice.spec("slice", Architecture.GRU, 1);
    TrainingRun.Outcome single =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(one, WeatherSlice.settings(4), WeatherSlice.TEST_FROM),
                e -> {});
    TrainingRun.Outcome three =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(
                    one.toBuilder().horizons(3).build(),
                    WeatherSlice.settings(4),
                    WeatherSlice.TEST_FROM),
                e -> {});

    // h = 1 is the one-horizon model (same windows, same seeds, same network), to the last digits
    assertThat(three.test())
        .extracting(Sample::key)
        .isEqualTo(single.test().stream().map(Sample::key).toList());
    assertThat(three.predicted()).containsExactly(single.predicted(), within(1e-2));
    assertThat(three.model().mae()).isEqualTo(single.model().mae(), within(1e-3));
    assertThat(three.byHorizon())
        .extracting(TrainingRun.HorizonOutcome::horizon)
        .containsExactly(1, 2, 3);
    for (TrainingRun.HorizonOutcome h : three.byHorizon()) {
      // every horizon against persistence and least squares on its own test windows, with
      // intervals calibrated on its own validation residuals
      assertThat(h.scores().model().n()).isGreaterThan(80);
      assertThat(h.scores().persistence().n()).isEqualTo(h.scores().model().n());
      assertThat(h.scores().linear().n()).isEqualTo(h.scores().model().n());
      assertThat(h.coverage()).containsOnlyKeys(0.8, 0.95);
      assertThat(h.coverage().get(0.95)).isBetween(0.7, 1.0);
    }
    // a day further ahead is harder for persistence
    assertThat(three.byHorizon().get(2).scores().persistence().mae())
        .isGreaterThan(three.byHorizon().get(0).scores().persistence().mae());
    ModelSpec spec = three.spec();
    assertThat(spec.horizons()).isEqualTo(3);
    assertThat(spec.laterIntervals()).hasSize(2);
    assertThat(spec.laterCalibrationResiduals())
        .hasSize(2)
        .allSatisfy(r -> assertThat(r).isNotEmpty());
    assertThat(spec.intervals(2).get(1).upper() - spec.intervals(2).get(1).lower())
        .as("the 95%% band of h = 3 is wider than that of h = 1")
        .isGreaterThan(spec.intervals(0).get(1).upper() - spec.intervals(0).get(1).lower());
  }

  @Test
  void theModelCarriesIntervalsCalibratedOnValidationAndTheTestScoresTheirCoverage() {
    TrainingRun.Outcome o =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(
                    WeatherSlice.spec("slice", Architecture.GRU, 1),
                    WeatherSlice.settings(5),
                    WeatherSlice.TEST_FROM),
                e -> {});

    List<IntervalBand> bands = o.spec().intervals();
    assertThat(bands).extracting(IntervalBand::level).containsExactly(0.8, 0.95);
    assertThat(bands.get(0).lower()).isNegative();
    assertThat(bands.get(0).upper()).isPositive();
    assertThat(bands.get(1).upper() - bands.get(1).lower())
        .isGreaterThan(bands.get(0).upper() - bands.get(0).lower());
    double[] actual = o.test().stream().mapToDouble(Sample::actual).toArray();
    assertThat(o.staticCoverage())
        .isEqualTo(Conformal.coverage(List.of(Conformal.hits(bands, o.predicted(), actual))));
    // served intervals start from the newest validation residuals and roll on through the test
    assertThat(o.spec().calibrationResiduals())
        .hasSizeBetween(Conformal.MIN_RESIDUALS, Conformal.ROLLING);
    assertThat(o.coverage()).containsOnlyKeys(0.8, 0.95);
    assertThat(o.coverage().get(0.8)).isBetween(0.6, 0.95);
    assertThat(o.spec().readingDays()).isEqualTo(ReadingDays.EVERY_DAY);
  }

  @Test
  void leastSquaresAloneIsRefittedOnTheValidationWindowsAndCalibratedByTheFitThatNeverSawThem() {
    ModelSpec spec =
        WeatherSlice.spec("slice", Architecture.GRU, 1).toBuilder().highway(true).build();
    TrainingSettings linear =
        WeatherSlice.settings(1).toBuilder()
            .combination(TrainingSettings.Combination.LINEAR)
            .ridge(LinearFit.OLS)
            .build();
    Split split =
        Split.chronological(Samples.of(WeatherSlice.history(), spec), WeatherSlice.TEST_FROM);
    ModelSpec scaled = spec.withScaling(ScalingFit.fit(spec, split.train()));
    List<Sample> every = new ArrayList<>(split.train());
    every.addAll(split.validation());
    double[] servedFit = Baselines.linear(scaled, every, split.test());
    double[] trainingFit = Baselines.linear(scaled, split.train(), split.test());
    double apart = 0;
    for (int i = 0; i < servedFit.length; i++) {
      apart = Math.max(apart, Math.abs(servedFit[i] - trainingFit[i]));
    }
    assertThat(apart).as("the newest windows move the fit").isGreaterThan(0.05);

    TrainingRun.Outcome o =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(spec, linear, WeatherSlice.TEST_FROM),
                e -> {});

    // served: least squares on every window before the test, as the baseline is fitted
    assertThat(o.predicted()).containsExactly(servedFit, within(1e-3));
    assertThat(o.model().mae()).isCloseTo(o.linear().mae(), within(1e-4));
    // calibrated: the newest residuals of the validation windows under the fit on the rest only
    double[] heldOut = Baselines.linear(scaled, split.train(), split.validation());
    List<Double> residuals = new ArrayList<>();
    for (int i = 0; i < heldOut.length; i++) {
      residuals.add(split.validation().get(i).actual() - heldOut[i]);
    }
    List<Double> newest =
        residuals.subList(Math.max(0, residuals.size() - Conformal.ROLLING), residuals.size());
    assertThat(o.spec().calibrationResiduals()).hasSize(newest.size());
    for (int i = 0; i < newest.size(); i++) {
      assertThat(o.spec().calibrationResiduals().get(i)).isCloseTo(newest.get(i), within(1e-3));
    }

    // with the bias shift: the refit's own mean residual on the validation windows (a level
    // target, squared loss: in real units, the mean of actual minus the refit's forecast)
    double[] refitOnValidation = Baselines.linear(scaled, every, split.validation());
    double[] refitResiduals = new double[refitOnValidation.length];
    for (int i = 0; i < refitOnValidation.length; i++) {
      refitResiduals[i] = split.validation().get(i).actual() - refitOnValidation[i];
    }
    double shift = Arrays.stream(refitResiduals).average().orElseThrow();
    assertThat(Math.abs(shift)).as("a shift to see").isGreaterThan(0.01);
    TrainingRun.Outcome shifted =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(
                    spec, linear.toBuilder().biasCorrection(true).build(), WeatherSlice.TEST_FROM),
                e -> {});
    for (int i = 0; i < servedFit.length; i++) {
      assertThat(shifted.predicted()[i]).isCloseTo(servedFit[i] + shift, within(1e-3));
    }

    // under absolute error, their median (what absolute error is least at)
    double[] sorted = refitResiduals.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    assertThat(Math.abs(median - shift)).as("median and mean apart").isGreaterThan(0.01);
    TrainingRun.Outcome medianShifted =
        new TrainingRun(CLOCK)
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.backtest(
                    spec,
                    linear.toBuilder().biasCorrection(true).loss(TrainingSettings.Loss.MAE).build(),
                    WeatherSlice.TEST_FROM),
                e -> {});
    for (int i = 0; i < servedFit.length; i++) {
      assertThat(medianShifted.predicted()[i]).isCloseTo(servedFit[i] + median, within(1e-3));
    }
  }

  @Test
  void earlyStoppingKeepsTheBestValidationEpoch() {
    TrainingSettings patient =
        TrainingSettings.builder()
            .epochs(200)
            .learningRate(0.05)
            .batchSize(32)
            .patience(3)
            .seed(42)
            .loss(TrainingSettings.Loss.MSE)
            .biasCorrection(false)
            .build();
    ModelSpec spec = WeatherSlice.spec("slice", Architecture.GRU, 1);
    Split split =
        Split.chronological(Samples.of(WeatherSlice.history(), spec), WeatherSlice.TEST_FROM);
    spec = spec.withScaling(ScalingFit.fit(spec, split.train()));

    NetworkTrainer.Result r =
        NetworkTrainer.train(spec, patient, split.train(), split.validation(), e -> {});
    r.model().close();

    NetworkTrainer.MemberRun run = r.members().get(0);
    assertThat(run.epochsRun()).isLessThan(200).isEqualTo(run.bestEpoch() + 3);
    double best = run.validationLoss().get(run.bestEpoch() - 1);
    assertThat(run.validationLoss()).allSatisfy(v -> assertThat(v).isGreaterThanOrEqualTo(best));
  }

  @Test
  void scalersAreFittedOnTrainingRowsOnly() {
    ModelSpec spec = WeatherSlice.spec("slice", Architecture.GRU, 1);
    List<Reading> readings = WeatherSlice.readings();
    Split split =
        Split.chronological(Samples.of(History.of(readings), spec), WeatherSlice.TEST_FROM);
    Scaling fitted = ScalingFit.fit(spec, split.train());

    // the mean of temp_max over the rows the training windows read, computed by hand
    Sample lastTrain = split.train().get(split.train().size() - 1);
    double manual =
        readings.stream()
            .filter(r -> !r.getDay().isAfter(lastTrain.baseDay()))
            .mapToDouble(r -> r.getFeatures().get("temp_max"))
            .average()
            .orElseThrow();
    assertThat(fitted.inputMean()[0]).isCloseTo(manual, Assertions.within(1e-9));

    // wildly different rows after the last training target (validation and test) change nothing
    List<Reading> altered = new ArrayList<>();
    for (Reading r : readings) {
      if (r.getDay().isAfter(lastTrain.targetDay())) {
        Map<String, Double> f = new HashMap<>(r.getFeatures());
        f.replaceAll((k, v) -> v * 100 + 1000);
        altered.add(Reading.newBuilder(r).setFeatures(f).build());
      } else {
        altered.add(r);
      }
    }
    Split alteredSplit =
        Split.chronological(Samples.of(History.of(altered), spec), WeatherSlice.TEST_FROM);
    assertThat(ScalingFit.fit(spec, alteredSplit.train())).isEqualTo(fitted);
  }

  @Test
  void theSplitIsChronologicalWithoutOverlap() {
    ModelSpec spec = WeatherSlice.spec("slice", Architecture.GRU, 1);
    List<Sample> samples = Samples.of(WeatherSlice.history(), spec);

    Split given = Split.chronological(samples, WeatherSlice.TEST_FROM);
    Split byDefault = Split.chronological(samples, null);

    assertThat(given.test())
        .allSatisfy(s -> assertThat(s.targetDay()).isAfterOrEqualTo(WeatherSlice.TEST_FROM));
    LocalDate lastTrain = given.train().get(given.train().size() - 1).targetDay();
    assertThat(given.validation())
        .allSatisfy(
            s -> assertThat(s.targetDay()).isAfter(lastTrain).isBefore(WeatherSlice.TEST_FROM));
    assertThat(given.train().size() + given.validation().size() + given.test().size())
        .isEqualTo(samples.size());
    assertThat((double) byDefault.test().size() / samples.size()).isBetween(0.19, 0.21);
  }
}
