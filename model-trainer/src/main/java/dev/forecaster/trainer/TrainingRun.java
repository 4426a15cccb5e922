package dev.forecaster.trainer;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.History;
import dev.forecaster.model.IntervalBand;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.model.Networks;
import dev.forecaster.model.ReadingDays;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.Scaling;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.model.WindowEncoder;
import dev.forecaster.model.WindowPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training round: split the history chronologically, fit scaling on the training windows,
 * train, backtest against persistence and least squares on the same test windows, and, when a
 * registry is given, compare with the model in service and publish only a better one. Publishing is
 * the last step: a round that fails before it publishes nothing.
 */
public final class TrainingRun {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

  /** What a round decided about publishing. */
  public enum Decision {
    /** The challenger is the new version in service. */
    PUBLISHED,
    /** The model in service is at least as good on the same test windows. */
    KEPT_CHAMPION,
    /** The challenger does not beat tomorrow = today. */
    WORSE_THAN_PERSISTENCE,
    /** No registry (--no-publish): trained and reported only. */
    NOT_PUBLISHED
  }

  /**
   * @param template the model to train; its scaling is fitted here
   * @param testFrom first test target day; null takes the last 20% of windows
   * @param registry where models are published; null trains and reports only
   * @param force publish even when the challenger is not better
   * @param modelsDir versioned local copies of published models; null keeps none
   * @param publishFirst publish the first version of a model (none on the topic yet) even when it
   *     does not beat persistence: the job has nothing to forecast with until one is published
   * @param windows which readings make windows (the job's policy)
   * @param search the forms to choose from on the history before the test part; null trains the
   *     template as it is
   * @param budget what the search and the final training may cost together, in reference seconds
   *     ({@link TrainingCost})
   * @param folds consecutive parts of the test period, each forecast by a model trained on
   *     everything before it (a rolling-origin backtest); the model of the last is published
   */
  public record Request(
      ModelSpec template,
      TrainingSettings settings,
      LocalDate testFrom,
      ModelRegistry registry,
      boolean force,
      Path modelsDir,
      boolean publishFirst,
      WindowPolicy windows,
      Selection.Space search,
      Duration budget,
      int folds) {

    public Request {
      if (folds < 1) {
        throw new IllegalArgumentException("a backtest has at least one fold, got " + folds);
      }
      if (search != null || budget != null) {
        Selection.requireBudget(budget);
      }
    }

    /** Trains and backtests only: no registry, nothing published. */
    public static Request backtest(
        ModelSpec template, TrainingSettings settings, LocalDate testFrom) {
      return new Request(
          template,
          settings,
          testFrom,
          null,
          false,
          null,
          false,
          WindowPolicy.DEFAULT,
          null,
          DEFAULT_BUDGET,
          1);
    }

    /**
     * Publishes to {@code registry} a model that beats persistence and the champion, or as good as
     * persistence beats the champion (see {@link TrainingRun#decide}).
     */
    public static Request publish(
        ModelSpec template, TrainingSettings settings, LocalDate testFrom, ModelRegistry registry) {
      return backtest(template, settings, testFrom).to(registry);
    }

    public Request to(ModelRegistry r) {
      return new Request(
          template,
          settings,
          testFrom,
          r,
          force,
          modelsDir,
          publishFirst,
          windows,
          search,
          budget,
          folds);
    }

    public Request forced() {
      return forced(true);
    }

    public Request forced(boolean yes) {
      return new Request(
          template,
          settings,
          testFrom,
          registry,
          yes,
          modelsDir,
          publishFirst,
          windows,
          search,
          budget,
          folds);
    }

    public Request keepingCopiesIn(Path dir) {
      return new Request(
          template,
          settings,
          testFrom,
          registry,
          force,
          dir,
          publishFirst,
          windows,
          search,
          budget,
          folds);
    }

    public Request publishingTheFirstVersion(boolean yes) {
      return new Request(
          template, settings, testFrom, registry, force, modelsDir, yes, windows, search, budget,
          folds);
    }

    public Request withWindows(WindowPolicy policy) {
      return new Request(
          template,
          settings,
          testFrom,
          registry,
          force,
          modelsDir,
          publishFirst,
          policy,
          search,
          budget,
          folds);
    }

    /** Chooses the form among {@code space} within {@code seconds} before training. */
    public Request searching(Selection.Space space, Duration within) {
      return new Request(
          template,
          settings,
          testFrom,
          registry,
          force,
          modelsDir,
          publishFirst,
          windows,
          space,
          within,
          folds);
    }

    public Request withFolds(int n) {
      return new Request(
          template,
          settings,
          testFrom,
          registry,
          force,
          modelsDir,
          publishFirst,
          windows,
          search,
          budget,
          n);
    }
  }

  /** Search and final training together, unless a request says otherwise. */
  public static final Duration DEFAULT_BUDGET = Duration.ofSeconds(150);

  /** A champion scored on the challenger's test windows that it can forecast too. */
  public record ChampionComparison(
      long version, int commonWindows, double championMae, double challengerMae) {}

  /**
   * The baselines and the model on one set of test windows (a fold, or all of them pooled).
   *
   * @param seasonalNaive the value a season before, where the data have one; null otherwise
   */
  public record Scores(Metrics model, Metrics persistence, Metrics linear, Metrics seasonalNaive) {}

  /**
   * The baselines' forecasts of test windows, and the scale of MASE (persistence's MAE on the
   * training windows).
   *
   * @param seasonalNaive null where the data have no season
   */
  public record Forecasts(
      double[] persistence, double[] linear, double[] seasonalNaive, double naiveScale) {}

  /** One part of a rolling-origin backtest: its test targets and how everything scored on them. */
  public record Fold(int index, LocalDate testFrom, LocalDate testTo, Scores scores) {}

  /**
   * A round's result.
   *
   * @param test every test window, in fold order (the windows the metrics pool)
   * @param predicted the model's forecast of each test window
   * @param season the season of the seasonal naive baseline in days (0: none found)
   * @param selection what the search tried and chose; null without a search
   * @param folds the rolling-origin backtest, one fold or more
   * @param coverage the first horizon's test coverage as served, by level
   * @param staticCoverage the first horizon's test coverage with the intervals fixed at validation
   * @param byHorizon every horizon's backtest, pooled over the folds, on its own test windows
   * @param outsideFittedLevels the first horizon's test windows a level model served persistence
   *     for, lying whole far outside the levels it was fitted on ({@link
   *     WindowEncoder#outsideFittedLevels})
   */
  public record Outcome(
      ModelSpec spec,
      List<Sample> test,
      LocalDate testFrom,
      LocalDate testTo,
      Metrics model,
      Metrics persistence,
      Metrics linear,
      Metrics seasonalNaive,
      int season,
      double[] predicted,
      List<NetworkTrainer.MemberRun> members,
      ChampionComparison champion,
      Decision decision,
      long version,
      String explanation,
      Selection.Result selection,
      List<Fold> folds,
      Map<Double, Double> coverage,
      Map<Double, Double> staticCoverage,
      List<HorizonOutcome> byHorizon,
      int outsideFittedLevels) {}

  /**
   * One horizon's backtest pooled over the folds. Its test windows are those whose target (that
   * many readings after the window) falls in the test period; the baselines forecast the same
   * windows (persistence: the last value whatever the horizon; least squares: fitted for this
   * horizon).
   */
  public record HorizonOutcome(
      int horizon,
      Scores scores,
      Map<Double, Double> coverage,
      Map<Double, Double> staticCoverage) {}

  /**
   * One horizon of a trained model on one split.
   *
   * @param spec the one-horizon model of it (its horizon, intervals and calibration residuals)
   * @param split the windows of this horizon
   * @param predicted the model's forecast of this horizon for each test window of the split
   */
  public record HorizonResult(
      ModelSpec spec, Split split, double[] predicted, Forecasts baselines, Scores scores) {}

  /**
   * A trained model and its backtest on one split, before any publishing decision. The caller
   * closes it (the model holds native memory).
   */
  public record Trained(
      LoadedModel model,
      Split split,
      Scores scores,
      double[] predicted,
      Forecasts baselines,
      List<NetworkTrainer.MemberRun> members,
      List<HorizonResult> horizons,
      Networks.Parts parts)
      implements AutoCloseable {

    public ModelSpec spec() {
      return model.spec();
    }

    public Metrics metrics() {
      return scores.model();
    }

    public Metrics persistence() {
      return scores.persistence();
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /** What to do with a challenger, and why. */
  record Verdict(Decision decision, String why) {}

  private final Clock clock;

  public TrainingRun(Clock clock) {
    this.clock = clock;
  }

  public Outcome run(History everything, Request request, IntConsumer onEpoch) {
    History history = everything.withFeatures(request.template().features());
    logCarrying(everything, history, request.template());
    LocalDate testFrom =
        request.testFrom() != null
            ? request.testFrom()
            : Split.defaultTestFrom(Samples.of(history, request.template(), request.windows()));
    Selection.Result selection = null;
    Request chosen = request;
    // a budget of 0 asks for the closed forms even where flags left nothing else to choose
    if (request.search() != null && (request.search().searches() || request.budget().isZero())) {
      selection =
          Selection.select(
              history,
              request.template().output(0), // the form is chosen on the first horizon
              request.settings(),
              testFrom,
              request.search(),
              request.budget(),
              request.template().horizons() * request.folds(),
              request.windows(),
              onEpoch,
              System::nanoTime);
      chosen =
          new Request(
              selection.spec().toBuilder().horizons(request.template().horizons()).build(),
              selection.settings(),
              testFrom,
              request.registry(),
              request.force(),
              request.modelsDir(),
              request.publishFirst(),
              request.windows(),
              null,
              request.budget(),
              request.folds());
    }
    Backtest backtest = backtest(history, chosen, testFrom, onEpoch);
    try (Trained trained = backtest.last()) {
      ModelSpec spec = trained.spec();
      Scores pooled = backtest.pooled();
      if (request.registry() == null) {
        return outcome(
            backtest,
            spec,
            null,
            Decision.NOT_PUBLISHED,
            0,
            "not published (--no-publish)",
            selection);
      }
      // the champion: the newest version that loads (a corrupt record above it is passed over)
      Optional<ModelUpdate> latest = request.registry().serving(spec.name());
      ChampionComparison champion =
          latest
              .flatMap(
                  u ->
                      compare(
                          u,
                          history,
                          request.windows(),
                          backtest.test(),
                          backtest.predicted(),
                          testFrom))
              .orElse(null);
      Verdict verdict = decide(pooled.model(), pooled.persistence(), latest, champion, request);
      if (verdict.decision() != Decision.PUBLISHED) {
        LOG.info("{}: {}", spec.name(), verdict.why());
        return outcome(backtest, spec, champion, verdict.decision(), 0, verdict.why(), selection);
      }
      long version = request.registry().highestVersion(spec.name()) + 1;
      spec = spec.withVersion(version, clock.millis());
      LOG.info("{}: publishing v{}", spec.name(), version);
      publish(request, trained.model(), spec);
      String why = published(version, pooled, latest, champion, verdict.why());
      LOG.info("{}: {}", spec.name(), why);
      return outcome(backtest, spec, champion, Decision.PUBLISHED, version, why, selection);
    }
  }

  /**
   * The rolling-origin backtest: the test period in {@code folds} consecutive parts, each forecast
   * by a model trained on everything before it. The last fold's model stays open.
   */
  private record Backtest(
      List<Fold> folds,
      List<Sample> test,
      double[] predicted,
      Scores pooled,
      Trained last,
      List<NetworkTrainer.MemberRun> members,
      int season,
      List<HorizonOutcome> byHorizon,
      int outsideFittedLevels) {}

  private Backtest backtest(
      History history, Request request, LocalDate testFrom, IntConsumer onEpoch) {
    List<Sample> samples = Samples.of(history, request.template(), request.windows());
    List<Sample> allTest = samples.stream().filter(s -> !s.targetDay().isBefore(testFrom)).toList();
    if (allTest.isEmpty()) {
      throw new TrainingDataException("no test windows on or after " + testFrom);
    }
    List<LocalDate> starts = new ArrayList<>();
    starts.add(testFrom);
    for (int k = 1; k < request.folds(); k++) {
      starts.add(Split.dayAtFraction(allTest, (double) k / request.folds()));
    }
    int season = Baselines.season(history, request.template().target(), testFrom);
    int horizons = request.template().horizons();
    List<Fold> folds = new ArrayList<>();
    List<List<HorizonResult>> results = new ArrayList<>(); // per horizon, per fold
    for (int j = 0; j < horizons; j++) {
      results.add(new ArrayList<>());
    }
    Trained last = null;
    for (int k = 0; k < starts.size(); k++) {
      LocalDate until = k + 1 < starts.size() ? starts.get(k + 1) : null;
      if (last != null) {
        last.close();
      }
      last =
          train(
              history,
              request,
              Split.chronological(samples, starts.get(k), until),
              until,
              season,
              onEpoch);
      Split split = last.split();
      folds.add(new Fold(k + 1, split.testFrom(), split.testTo(), last.scores()));
      for (int j = 0; j < horizons; j++) {
        results.get(j).add(last.horizons().get(j));
      }
    }
    List<HorizonOutcome> byHorizon = new ArrayList<>();
    List<Sample> test = List.of();
    double[] predicted = null;
    Scores pooled = null;
    int outsideFittedLevels = 0;
    for (int j = 0; j < horizons; j++) {
      List<HorizonResult> parts = results.get(j);
      List<Sample> horizonTest = new ArrayList<>();
      List<Map<Double, long[]>> hits = new ArrayList<>();
      List<Map<Double, long[]>> staticHits = new ArrayList<>();
      for (HorizonResult r : parts) {
        List<Sample> t = r.split().test();
        horizonTest.addAll(t);
        double[] actualOfFold = t.stream().mapToDouble(Sample::actual).toArray();
        staticHits.add(Conformal.hits(r.spec().intervals(), r.predicted(), actualOfFold));
        hits.add(servedHits(r.spec(), t, r.predicted()));
      }
      double[] horizonPredicted = concat(parts.stream().map(HorizonResult::predicted).toList());
      Forecasts baselines =
          new Forecasts(
              concat(parts.stream().map(r -> r.baselines().persistence()).toList()),
              concat(parts.stream().map(r -> r.baselines().linear()).toList()),
              season == 0
                  ? null
                  : concat(parts.stream().map(r -> r.baselines().seasonalNaive()).toList()),
              parts.get(0).baselines().naiveScale());
      double[] actual = horizonTest.stream().mapToDouble(Sample::actual).toArray();
      Scores scores = scores(horizonPredicted, actual, baselines);
      byHorizon.add(
          new HorizonOutcome(
              parts.get(0).spec().horizon(),
              scores,
              Conformal.coverage(hits),
              Conformal.coverage(staticHits)));
      if (j == 0) {
        test = horizonTest;
        predicted = horizonPredicted;
        pooled = scores;
        for (HorizonResult r : parts) { // each fold's windows by that fold's model
          WindowEncoder encoder = new WindowEncoder(r.spec());
          float[] window = new float[encoder.floatsPerWindow()];
          for (Sample s : r.split().test()) {
            encoder.encode(s.values(), s.epochDays(), window, 0);
            outsideFittedLevels += encoder.outsideFittedLevels(window, 0) ? 1 : 0;
          }
        }
      }
    }
    return new Backtest(
        folds,
        test,
        predicted,
        pooled,
        last,
        last.members(),
        season,
        byHorizon,
        outsideFittedLevels);
  }

  /**
   * Coverage of the intervals as the job serves them ({@link Conformal.Rolling}): the forecasts of
   * each base day get the bands calibrated on the residuals known that day (the validation
   * residuals, then those of the test forecasts whose target day has come), as the job's scorer
   * learns a forecast's residual when the reading of its target day arrives.
   */
  private static Map<Double, long[]> servedHits(
      ModelSpec spec, List<Sample> test, double[] predicted) {
    Conformal.Rolling rolling = new Conformal.Rolling(spec.calibrationResiduals());
    // as the job does: only models with calibration residuals roll on
    boolean rolls = !spec.calibrationResiduals().isEmpty();
    Map<Double, long[]> hits = new LinkedHashMap<>();
    Integer[] byBase = new Integer[test.size()];
    Arrays.setAll(byBase, i -> i);
    Arrays.sort(byBase, Comparator.comparing(i -> test.get(i).baseDay()));
    Integer[] byTarget = byBase.clone();
    Arrays.sort(byTarget, Comparator.comparing(i -> test.get(i).targetDay()));
    int known = 0; // the residuals of byTarget[0 .. known) have joined
    int from = 0;
    while (from < byBase.length) {
      LocalDate day = test.get(byBase[from]).baseDay();
      while (rolls
          && known < byTarget.length
          && !test.get(byTarget[known]).targetDay().isAfter(day)) {
        int i = byTarget[known++];
        rolling.add(test.get(i).actual() - predicted[i]);
      }
      int to = from;
      while (to < byBase.length && test.get(byBase[to]).baseDay().equals(day)) {
        to++;
      }
      List<IntervalBand> bands = rolling.bands().isEmpty() ? spec.intervals() : rolling.bands();
      for (int k = from; k < to; k++) {
        int i = byBase[k];
        for (IntervalBand band : bands) {
          long[] c = hits.computeIfAbsent(band.level(), l -> new long[2]);
          c[0] += band.covers(predicted[i], test.get(i).actual()) ? 1 : 0;
          c[1]++;
        }
      }
      from = to;
    }
    return hits;
  }

  private static double[] concat(List<double[]> parts) {
    return parts.stream().flatMapToDouble(Arrays::stream).toArray();
  }

  /**
   * Splits, fits scaling, trains and backtests, without publishing. The spec of the returned model
   * carries its settings and metrics.
   */
  public Trained train(History everything, Request request, IntConsumer onEpoch) {
    History history = everything.withFeatures(request.template().features());
    logCarrying(everything, history, request.template());
    List<Sample> samples = Samples.of(history, request.template(), request.windows());
    Split split = Split.chronological(samples, request.testFrom());
    return train(
        history,
        request,
        split,
        null,
        Baselines.season(history, request.template().target(), split.testFrom()),
        onEpoch);
  }

  /**
   * Logs how many readings are the model's; none at all is an error that says so (a history of
   * other features would otherwise fail later as too short for a window).
   */
  private static void logCarrying(History everything, History history, ModelSpec spec) {
    long carrying = history.readingsCarrying(spec.features());
    if (everything.readings() == 0) {
      throw new TrainingDataException(
          String.format(
              "no readings to train on: the history is empty (%d invalid, %d repeated days and %d"
                  + " late readings dropped)",
              everything.invalid(), everything.duplicates(), everything.late()));
    }
    if (carrying == 0) {
      throw new TrainingDataException(
          String.format(
              "no reading carries all of the model's features %s (%d readings of %d series, none"
                  + " with all of them): check the model's features and target, or the readings",
              spec.features(), everything.readings(), everything.bySeries().size()));
    }
    if (carrying < everything.readings()) {
      LOG.info(
          "{}: {} of {} readings carry its features {} ({} series); the others are not its",
          spec.name(),
          carrying,
          everything.readings(),
          spec.features(),
          history.bySeries().size());
    }
  }

  /**
   * Trains the request's model on {@code split} (whose test part ends before {@code until}; null:
   * at the end). A model of several horizons is one network per horizon, each trained on its own
   * windows (the direct strategy: the first horizon's network is the one-horizon model's), all
   * reading the same encoded window, put side by side into one model; every horizon is then
   * backtested on its own test windows through that one model.
   */
  private Trained train(
      History history,
      Request request,
      Split split,
      LocalDate until,
      int season,
      IntConsumer onEpoch) {
    ModelSpec template = request.template();
    if (template.horizons() == 1) {
      return trainOne(history, template, request.settings(), split, season, onEpoch, null, null);
    }
    List<Trained> perHorizon = new ArrayList<>();
    try {
      for (int j = 0; j < template.horizons(); j++) {
        ModelSpec one = template.output(j);
        Split own =
            j == 0
                ? split
                : Split.chronological(
                    Samples.of(history, one, request.windows()), split.testFrom(), until);
        ModelSpec like = perHorizon.isEmpty() ? null : perHorizon.get(0).spec();
        // the previous horizon's members are where this one's start: a day further ahead is
        // almost the same target, so it needs far fewer epochs than from random weights (at most
        // a quarter of them; early stopping usually ends it sooner)
        List<byte[]> warmStart =
            perHorizon.isEmpty()
                ? null
                : perHorizon.get(j - 1).members().stream()
                    .map(NetworkTrainer.MemberRun::weights)
                    .toList();
        TrainingSettings settings =
            warmStart == null
                ? request.settings()
                : request.settings().withEpochs(Math.max(1, request.settings().epochs() / 4));
        perHorizon.add(trainOne(history, one, settings, own, season, onEpoch, like, warmStart));
      }
      return fuse(template, perHorizon);
    } finally {
      perHorizon.forEach(Trained::close);
    }
  }

  /**
   * One model of every horizon from one-horizon models: each network's output rescaled to the first
   * one's target scaling, intervals and residuals kept per horizon; every horizon is scored again
   * through the fused model (what is published is what was backtested).
   */
  private static Trained fuse(ModelSpec template, List<Trained> perHorizon) {
    ModelSpec first = perHorizon.get(0).spec();
    Scaling to = first.scaling();
    List<Networks.Parts> parts = new ArrayList<>();
    for (Trained t : perHorizon) {
      Scaling from = t.spec().scaling();
      parts.add(
          t.parts()
              .affine(
                  from.targetStd() / to.targetStd(),
                  (from.targetMean() - to.targetMean()) / to.targetStd()));
    }
    List<Trained> later = perHorizon.subList(1, perHorizon.size());
    ModelSpec spec =
        first.toBuilder()
            .horizon(template.horizon())
            .horizons(template.horizons())
            .laterIntervals(later.stream().map(t -> t.spec().intervals()).toList())
            .laterCalibrationResiduals(
                later.stream().map(t -> t.spec().calibrationResiduals()).toList())
            .build();
    LoadedModel model = Networks.assembleHorizons(spec, parts, Device.cpu());
    try {
      List<HorizonResult> horizons = new ArrayList<>();
      for (int j = 0; j < perHorizon.size(); j++) {
        HorizonResult own = perHorizon.get(j).horizons().get(0);
        List<Sample> test = own.split().test();
        double[][] all = ModelScoring.predictAll(model, test);
        double[] predicted = new double[test.size()];
        for (int i = 0; i < predicted.length; i++) {
          predicted[i] = all[i][j];
        }
        double[] actual = test.stream().mapToDouble(Sample::actual).toArray();
        horizons.add(
            new HorizonResult(
                own.spec(),
                own.split(),
                predicted,
                own.baselines(),
                scores(predicted, actual, own.baselines())));
      }
      HorizonResult h1 = horizons.get(0);
      return new Trained(
          model,
          h1.split(),
          h1.scores(),
          h1.predicted(),
          h1.baselines(),
          perHorizon.get(0).members(),
          horizons,
          null);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Trains a one-horizon model on {@code split}.
   *
   * @param like a model of an earlier horizon whose calendar and input scaling this one takes (so
   *     that both read the same encoded window); null: its own
   * @param warmStart the members' initial weights (see {@link NetworkTrainer#train}); null: random
   */
  private static Trained trainOne(
      History history,
      ModelSpec template,
      TrainingSettings settings,
      Split split,
      int season,
      IntConsumer onEpoch,
      ModelSpec like,
      List<byte[]> warmStart) {
    ModelSpec spec;
    Scaling scaling;
    if (like == null) {
      // the series' calendar, from the days of the training windows' targets
      spec =
          template.toBuilder()
              .readingDays(
                  ReadingDays.learn(split.train().stream().map(Sample::targetDay).toList()))
              .build();
      scaling = ScalingFit.fit(spec, split.train());
    } else {
      spec = template.toBuilder().readingDays(like.readingDays()).build();
      Scaling own = ScalingFit.fit(spec, split.train());
      Scaling inputs = like.scaling();
      scaling =
          new Scaling(inputs.inputMean(), inputs.inputStd(), own.targetMean(), own.targetStd());
    }
    spec = spec.withScaling(scaling);
    LOG.info(
        "{} (horizon {}): {} training, {} validation, {} test windows (test targets {} .. {});"
            + " reads on {}",
        spec.name(),
        spec.horizon(),
        split.train().size(),
        split.validation().size(),
        split.test().size(),
        split.testFrom(),
        split.testTo(),
        spec.readingDays());
    NetworkTrainer.Result result =
        NetworkTrainer.train(spec, settings, split.train(), split.validation(), onEpoch, warmStart);
    LoadedModel model = result.model(); // with bias correction, the scaling of the target moved
    try {
      // intervals from the validation windows: early stopping saw their loss, the weights that
      // forecast them never fitted them
      double[] residuals =
          split.validation().isEmpty()
              ? new double[0]
              : Conformal.residuals(
                  result.validationForecasts(),
                  split.validation().stream().mapToDouble(Sample::actual).toArray());
      List<Double> newest =
          Arrays.stream(residuals)
              .skip(Math.max(0, residuals.length - Conformal.ROLLING))
              .boxed()
              .toList();
      double[] predicted = ModelScoring.predict(model, split.test());
      List<Sample> beforeTest = new ArrayList<>(split.train());
      beforeTest.addAll(split.validation());
      Forecasts baselines = baselines(history, model.spec(), split.test(), beforeTest, season);
      double[] actual = split.test().stream().mapToDouble(Sample::actual).toArray();
      Scores scores = scores(predicted, actual, baselines);
      ModelSpec measured =
          model
              .spec()
              .withMetrics(
                  settings.asMap(), trainingMetrics(result), backtestMetrics(scores, split))
              .toBuilder()
              .intervals(Conformal.bands(residuals))
              .calibrationResiduals(residuals.length < Conformal.MIN_RESIDUALS ? List.of() : newest)
              .build();
      LoadedModel described = model.describedAs(measured);
      return new Trained(
          described,
          split,
          scores,
          predicted,
          baselines,
          result.members(),
          List.of(new HorizonResult(measured, split, predicted, baselines, scores)),
          result.parts());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * The baselines' forecasts of the test windows. Least squares is fitted on {@code train} (the
   * windows before the test part) with the model's inputs; MASE is scaled by persistence's error on
   * those windows.
   */
  private static Forecasts baselines(
      History history, ModelSpec spec, List<Sample> test, List<Sample> train, int season) {
    double scale =
        Metrics.of(
                Baselines.persistence(train), train.stream().mapToDouble(Sample::actual).toArray())
            .mae();
    return new Forecasts(
        Baselines.persistence(test),
        Baselines.linear(spec, train, test),
        season == 0 ? null : Baselines.seasonalNaive(history, spec.target(), test, season),
        scale);
  }

  private static Scores scores(double[] predicted, double[] actual, Forecasts b) {
    double scale = b.naiveScale();
    return new Scores(
        Metrics.of(predicted, actual, scale),
        Metrics.of(b.persistence(), actual, scale),
        Metrics.of(b.linear(), actual, scale),
        b.seasonalNaive() == null ? null : Metrics.of(b.seasonalNaive(), actual, scale));
  }

  /**
   * Whether a challenger is published: it must beat persistence and the champion on their common
   * test windows, unless forced ({@code --force}, or the first version with {@code publishFirst}).
   * Where a champion is served, a challenger as good as persistence (persistence's own forecasts,
   * chosen by the search) that beats the champion on their common test windows is published too: it
   * is the better of the two to serve (the champion a first version published anyway, or one the
   * series has left behind). Pure: the same inputs give the same verdict.
   */
  static Verdict decide(
      Metrics challenger,
      Metrics persistence,
      Optional<ModelUpdate> latest,
      ChampionComparison champion,
      Request request) {
    boolean beatsChampion = champion == null || champion.challengerMae() < champion.championMae();
    boolean tiesPersistenceReplacingAWorseChampion =
        champion != null
            && beatsChampion
            && challenger.mae() <= persistence.mae(); // persistence's own forecasts tie it
    boolean beatsPersistence = challenger.mae() < persistence.mae();
    boolean forced = request.force() || (request.publishFirst() && latest.isEmpty());
    if (!beatsPersistence && !tiesPersistenceReplacingAWorseChampion && !forced) {
      return new Verdict(
          Decision.WORSE_THAN_PERSISTENCE,
          String.format(
              "not published: MAE %.4f does not beat persistence %.4f",
              challenger.mae(), persistence.mae()));
    }
    if (!beatsChampion && !forced) {
      return new Verdict(
          Decision.KEPT_CHAMPION,
          String.format(
              "kept v%d: on %d common test windows its MAE %.4f is not beaten by %.4f",
              champion.version(),
              champion.commonWindows(),
              champion.championMae(),
              champion.challengerMae()));
    }
    if (beatsPersistence && beatsChampion) {
      return new Verdict(Decision.PUBLISHED, "");
    }
    return new Verdict(
        Decision.PUBLISHED,
        tiesPersistenceReplacingAWorseChampion
            ? String.format(
                " (as good as persistence, and better than v%d on the common windows)",
                champion.version())
            : " (forced: it is not better)");
  }

  private static String published(
      long version,
      Scores pooled,
      Optional<ModelUpdate> latest,
      ChampionComparison champion,
      String forcedNote) {
    String against;
    if (champion != null) {
      against =
          String.format(
              ", champion v%d %.4f on %d common windows",
              champion.version(), champion.championMae(), champion.commonWindows());
    } else if (latest.isPresent()) {
      against = " (v" + latest.get().getVersion() + " could not be scored)";
    } else {
      against = " (first version)";
    }
    return String.format(
            "published v%d: MAE %.4f vs persistence %.4f",
            version, pooled.model().mae(), pooled.persistence().mae())
        + against
        + forcedNote;
  }

  private static Outcome outcome(
      Backtest b,
      ModelSpec spec,
      ChampionComparison champion,
      Decision decision,
      long version,
      String why,
      Selection.Result selection) {
    Scores pooled = b.pooled();
    return new Outcome(
        spec,
        b.test(),
        b.folds().get(0).testFrom(),
        b.folds().get(b.folds().size() - 1).testTo(),
        pooled.model(),
        pooled.persistence(),
        pooled.linear(),
        pooled.seasonalNaive(),
        b.season(),
        b.predicted(),
        b.members(),
        champion,
        decision,
        version,
        why,
        selection,
        b.folds(),
        b.byHorizon().get(0).coverage(),
        b.byHorizon().get(0).staticCoverage(),
        b.byHorizon(),
        b.outsideFittedLevels());
  }

  /**
   * Scores the published model on the test windows it can forecast, beside the challenger on the
   * same ones.
   */
  private Optional<ChampionComparison> compare(
      ModelUpdate update,
      History history,
      WindowPolicy windows,
      List<Sample> test,
      double[] challengerPredicted,
      LocalDate testFrom) {
    try (LoadedModel champion = ModelUpdates.load(update, Device.cpu())) {
      List<Sample> theirs =
          Samples.of(history.withFeatures(champion.spec().features()), champion.spec(), windows)
              .stream()
              .filter(s -> !s.targetDay().isBefore(testFrom))
              .toList();
      Map<String, Integer> ours = new HashMap<>();
      for (int i = 0; i < test.size(); i++) {
        ours.put(test.get(i).key(), i);
      }
      List<Sample> common = theirs.stream().filter(s -> ours.containsKey(s.key())).toList();
      if (common.isEmpty()) {
        LOG.warn("champion v{} shares no test window with the challenger", update.getVersion());
        return Optional.empty();
      }
      double[] championPredicted = ModelScoring.predict(champion, common);
      double[] actual = common.stream().mapToDouble(Sample::actual).toArray();
      double[] challengerCommon =
          common.stream().mapToDouble(s -> challengerPredicted[ours.get(s.key())]).toArray();
      return Optional.of(
          new ChampionComparison(
              update.getVersion(),
              common.size(),
              Metrics.of(championPredicted, actual).mae(),
              Metrics.of(challengerCommon, actual).mae()));
    } catch (ModelArtifactException | IllegalArgumentException e) {
      LOG.warn(
          "the published {} v{} cannot be scored on this history: {}",
          update.getModelName(),
          update.getVersion(),
          e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Writes the local copy aside, publishes, then moves the copy into place; a failure leaves
   * neither.
   */
  private static void publish(Request request, LoadedModel model, ModelSpec spec) {
    byte[] artifact = ModelArtifact.write(model, spec);
    ModelUpdate update = ModelUpdates.of(spec, artifact);
    Path staged = null;
    Path target = null;
    try {
      if (request.modelsDir() != null) {
        Path dir = request.modelsDir().resolve(spec.name());
        target = dir.resolve("v" + spec.version());
        staged = dir.resolve(".v" + spec.version() + ".staged");
        deleteRecursively(staged);
        ModelArtifact.save(artifact, staged);
        Files.writeString(staged.resolve("model.json"), ModelArtifact.specJson(spec));
      }
      request.registry().publish(update);
      if (staged != null) {
        deleteRecursively(target);
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the local copy of " + spec.name() + " v" + spec.version(), e);
    } finally {
      if (staged != null) {
        try {
          deleteRecursively(staged);
        } catch (IOException e) {
          LOG.warn("could not remove {}: {}", staged, e.getMessage());
        }
      }
    }
  }

  private static Map<String, Double> trainingMetrics(NetworkTrainer.Result trained) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("members", (double) trained.members().size());
    m.put("validationBiasShift", trained.outputShift());
    m.put("memberGate", trained.gate());
    m.put(
        "meanBestEpoch",
        trained.members().stream()
            .mapToInt(NetworkTrainer.MemberRun::bestEpoch)
            .average()
            .orElse(0));
    m.put(
        "meanBestValidationLoss",
        trained.members().stream()
            .filter(r -> !r.validationLoss().isEmpty()) // members that were not trained
            .mapToDouble(
                r ->
                    r.validationLoss()
                        .get(Math.max(0, Math.min(r.bestEpoch(), r.validationLoss().size()) - 1)))
            .average()
            .orElse(Double.NaN));
    return m;
  }

  private static Map<String, Double> backtestMetrics(Scores scores, Split split) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("mae", scores.model().mae());
    m.put("rmse", scores.model().rmse());
    m.put("mape", scores.model().mape());
    m.put("smape", scores.model().smape());
    m.put("mase", scores.model().mase());
    m.put("persistenceMae", scores.persistence().mae());
    m.put("linearMae", scores.linear().mae());
    if (scores.seasonalNaive() != null) {
      m.put("seasonalNaiveMae", scores.seasonalNaive().mae());
    }
    m.put("testWindows", (double) scores.model().n());
    m.put("testFromEpochDay", (double) split.testFrom().toEpochDay());
    return m;
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (path == null || !Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
