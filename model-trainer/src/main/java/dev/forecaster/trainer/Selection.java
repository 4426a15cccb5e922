package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowEncoder;
import dev.forecaster.model.WindowPolicy;
import java.time.Duration;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.apache.commons.math3.linear.SingularMatrixException;
import org.apache.commons.math3.stat.StatUtils;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses a model's form on the history before the test part only; the test part is never looked
 * at. Every candidate is scored the same way: on {@link #ORIGINS} rolling origins inside the
 * training period, each trained as the final model is (fit on the first 85% of what precedes the
 * origin, early stopping, shares and the bias shift decided on the last 15%) and scored on the next
 * tenth of the period it has not seen. (Least squares alone, chosen, is then refitted on the
 * validation windows too, as a cross-validated search refits its choice: {@link NetworkTrainer}.)
 * Within a budget of reference seconds ({@link TrainingCost}):
 *
 * <ol>
 *   <li><b>Form</b> (closed form, fast): every combination of target transform (level, change,
 *       log-change where every value is positive; inputs transformed alike), day-of-year and
 *       day-of-week inputs, window length, ridge and bias shift, as least squares; the drift (a
 *       change target with nothing but its mean: persistence with a trend); and persistence itself
 *       (no change), the simplest of all.
 *   <li><b>Network</b>: on the simplest form within noise of the best and, where they differ, on
 *       the best, small ensembles per hidden size, joined to that least squares (its highway)
 *       either as a correction of its residuals or blended with it. A budget of 0 tries none:
 *       closed forms only.
 * </ol>
 *
 * Where the target may wander, the simplest candidate within one standard error of the best wins
 * (the error of the paired differences on the same windows): a network must beat its least squares
 * by more than noise, least squares must beat the drift, and the drift persistence (a trend
 * estimated on the past is worth serving only where it was clearly there: on a random walk or a
 * price it costs more than it gains as often as not). Where it clearly reverts to its seasonal
 * mean, the best on the origins wins ({@link #simplerStandardErrors}), unless persistence is within
 * one standard error of it ({@link #persistenceStandardErrors}). Where it may wander, persistence
 * is served unless the best beats it by {@link #WANDERING_STANDARD_ERRORS} standard errors, and
 * unless the best of all the forms tried beats it by more than the best of that many would by luck,
 * at the same level ({@link SuperiorAbility}: on a few dozen windows the best of a hundred forms
 * beats persistence by two of its own standard errors now and then when none is better). Where the
 * target clearly reverts to its seasonal mean, persistence is not the forecast to guard (the
 * Dickey-Fuller test has already found what it misses), and the test is reported, not applied. The
 * final model is then trained by {@link TrainingRun} in the chosen form, with as many members as
 * the remaining budget allows.
 */
public final class Selection {

  private static final Logger LOG = LoggerFactory.getLogger(Selection.class);

  /** Rolling origins of the form stage. */
  static final int ORIGINS = 3;

  /** Share of the training period each origin scores. */
  static final double ORIGIN_SHARE = 0.10;

  /**
   * How much better a level target must be than a change target to be chosen: a change cannot leave
   * the range it was trained on, a level can (a random walk, a price, a trend), so a level must win
   * clearly on the rolling origins, not by the noise of one period. Not where the target clearly
   * reverts to its seasonal mean ({@link #MEAN_REVERTING_BELOW}).
   */
  static final double LEVEL_MARGIN = 0.02;

  /**
   * The augmented Dickey-Fuller statistic below which a target clearly reverts to its (seasonal)
   * mean, and a level target needs no margin: a weather station, where the level knows where the
   * season is and a change does not. A random walk gives below -3.43 once in a hundred (the 1%
   * critical value with a constant alone; the day of year moves it a little); -5 is far beyond, so
   * a price or a random walk keeps the margin. Generated seasonal series and the two weather
   * stations gave -8.6 to -10.3; random walks, prices, weekly and regime series and the S&P 500
   * above -4 (docs/BENCHMARKS.md).
   */
  static final double MEAN_REVERTING_BELOW = -5;

  /**
   * Standard errors by which the best candidate must beat persistence where the target may wander
   * (no clear reversion to its mean: {@link #MEAN_REVERTING_BELOW}). On a random walk or a price
   * the best of a hundred forms beats persistence on the origins by the luck of those windows alone
   * about as often as not, by more than one standard error of the paired differences now and then;
   * a forecast worse than persistence is what such a luck serves.
   */
  static final double WANDERING_STANDARD_ERRORS = 2;

  /** Lagged changes in the Dickey-Fuller regression: a week of them. */
  static final int DICKEY_FULLER_LAGS = 7;

  /** A ridge so strong that least squares keeps only its intercept: the drift. */
  static final double DRIFT_RIDGE = 1e9;

  /** The stage, and the description, of the candidate that forecasts no change. */
  public static final String PERSISTENCE = "persistence";

  /** Members of each network candidate. */
  static final int CANDIDATE_MEMBERS = 2;

  /** Share of the budget the network stage may use; the final training gets the rest. */
  static final double NETWORK_STAGE_SHARE = 0.5;

  /**
   * How many times its share of the budget, by the clock, the network stage may run on a machine
   * slower than the reference before it stops trying networks anyway.
   */
  static final int CLOCK_GUARD = 2;

  /**
   * The forms the search may try: a list of one value fixes that dimension (a flag or a preset).
   *
   * @param maxReadingsPerWindow the most readings a model may read (the job's {@code
   *     window.length})
   */
  public record Space(
      List<ValueTransform> transforms,
      List<Boolean> yearly,
      List<Boolean> weekday,
      List<Integer> windows,
      List<Integer> hidden,
      List<Double> ridges,
      List<Boolean> biasShift,
      TrainingSettings.Loss loss,
      int maxReadingsPerWindow) {

    public Space {
      transforms = List.copyOf(transforms);
      yearly = List.copyOf(yearly);
      weekday = List.copyOf(weekday);
      windows = List.copyOf(windows);
      hidden = List.copyOf(hidden);
      ridges = List.copyOf(ridges);
      biasShift = List.copyOf(biasShift);
      if (biasShift.isEmpty()
          || transforms.isEmpty()
          || yearly.isEmpty()
          || weekday.isEmpty()
          || windows.isEmpty()
          || hidden.isEmpty()
          || ridges.isEmpty()) {
        throw new IllegalArgumentException("every dimension of a search needs a value");
      }
    }

    /**
     * The default search: every transform, with and without each calendar input, windows of one and
     * two weeks, three network sizes, ridges from none to strong.
     */
    public static Space wide() {
      return new Space(
          List.of(ValueTransform.LEVEL, ValueTransform.CHANGE, ValueTransform.LOG_CHANGE),
          List.of(false, true),
          List.of(false, true),
          List.of(7, 14),
          List.of(4, 8, 16),
          List.of(LinearFit.OLS, 0.01, 0.1, 1.0, 10.0),
          List.of(false, true),
          null,
          WindowPolicy.DEFAULT_WINDOW_LENGTH);
    }

    public Space withTransforms(List<ValueTransform> v) {
      return new Space(
          v, yearly, weekday, windows, hidden, ridges, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withYearly(List<Boolean> v) {
      return new Space(
          transforms, v, weekday, windows, hidden, ridges, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withWeekday(List<Boolean> v) {
      return new Space(
          transforms, yearly, v, windows, hidden, ridges, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withWindows(List<Integer> v) {
      return new Space(
          transforms, yearly, weekday, v, hidden, ridges, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withHidden(List<Integer> v) {
      return new Space(
          transforms, yearly, weekday, windows, v, ridges, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withRidges(List<Double> v) {
      return new Space(
          transforms, yearly, weekday, windows, hidden, v, biasShift, loss, maxReadingsPerWindow);
    }

    public Space withBiasShift(List<Boolean> v) {
      return new Space(
          transforms, yearly, weekday, windows, hidden, ridges, v, loss, maxReadingsPerWindow);
    }

    /**
     * The training loss of every candidate; null: squared error for levels, absolute for changes.
     */
    public Space withLoss(TrainingSettings.Loss v) {
      return new Space(
          transforms, yearly, weekday, windows, hidden, ridges, biasShift, v, maxReadingsPerWindow);
    }

    /** The loss a form trains with. */
    TrainingSettings.Loss lossFor(ValueTransform t) {
      if (loss != null) {
        return loss;
      }
      // changes are heavy-tailed (a few large moves): absolute error keeps them from dominating
      return t == ValueTransform.LEVEL ? TrainingSettings.Loss.MSE : TrainingSettings.Loss.MAE;
    }

    /** Whether there is anything to choose. */
    public boolean searches() {
      return transforms.size()
              * yearly.size()
              * weekday.size()
              * windows.size()
              * hidden.size()
              * ridges.size()
              * biasShift.size()
          > 1;
    }
  }

  /**
   * One form tried and how it scored on the validation windows, in real units.
   *
   * @param stage form (least squares on rolling origins) or network (on the validation windows)
   * @param biasShift whether the validation bias shift helped (form stage) or was applied
   */
  public record Candidate(
      String stage,
      String transform,
      boolean yearly,
      boolean weekday,
      int window,
      Integer hidden,
      String combination,
      double ridge,
      boolean biasShift,
      double validationMae,
      double persistenceMae,
      int windows,
      double seconds) {

    /** Whether this is persistence or the drift: the two that read nothing but the target. */
    public boolean naive() {
      return stage.equals(PERSISTENCE) || ridge >= DRIFT_RIDGE;
    }

    public String describe() {
      if (stage.equals(PERSISTENCE)) {
        return PERSISTENCE;
      }
      if (ridge >= DRIFT_RIDGE) {
        return "drift " + transform + (biasShift ? " +bias shift" : "");
      }
      return String.format(
          Locale.ROOT,
          "%s %s%s%s window %d%s ridge %s%s",
          stage,
          transform,
          yearly ? " +day-of-year" : "",
          weekday ? " +day-of-week" : "",
          window,
          hidden == null ? "" : " hidden " + hidden + " " + combination,
          ridge <= LinearFit.OLS ? "0" : Double.toString(ridge),
          biasShift ? " +bias shift" : "");
    }
  }

  /**
   * What the search chose: the spec (unfitted, with the members the budget allows) and settings to
   * train the final model with, every candidate tried, the time it took by the clock, what its
   * networks cost of the budget in reference seconds ({@link TrainingCost}), the target's
   * Dickey-Fuller statistic ({@link #dickeyFuller}), the margin a level target had to win by, the
   * standard errors by which persistence had to be beaten, the p-value of Hansen's test that the
   * best of the forms tried beats persistence ({@link SuperiorAbility}: the bootstrap's, or with
   * 200 windows or more Bonferroni's upper bound where that is already below the level; where the
   * target may wander, below the level of those standard errors, or persistence is served), and how
   * many times each member of the final model is trained (once per horizon and backtest fold),
   * which the budget paid for.
   */
  public record Result(
      ModelSpec spec,
      TrainingSettings settings,
      Candidate chosen,
      List<Candidate> candidates,
      double seconds,
      double budgetSeconds,
      double referenceSeconds,
      double dickeyFuller,
      double levelMargin,
      double persistenceStandardErrors,
      double superiorAbilityP,
      int finalTrainings) {}

  private Selection() {}

  /**
   * What a trained model serves, by the settings it was trained with: {@link #PERSISTENCE}, {@code
   * "drift"}, {@code "least squares"}, or its network's cell ({@code "gru"}, {@code "lstm"}).
   */
  public static String served(ModelSpec spec) {
    String combination = spec.training().getOrDefault("combination", "");
    if (combination.equals(TrainingSettings.Combination.PERSISTENCE.wireName())) {
      return PERSISTENCE;
    }
    if (combination.equals(TrainingSettings.Combination.LINEAR.wireName())) {
      double ridge = Double.parseDouble(spec.training().getOrDefault("ridge", "0"));
      return ridge >= DRIFT_RIDGE ? "drift" : "least squares";
    }
    return spec.architecture().wireName();
  }

  /**
   * A candidate, its absolute error on each window of the rolling origins, by window, what training
   * it cost in reference seconds ({@link TrainingCost}; 0 for closed forms), and how many members
   * that paid for (members times the origins trained on).
   */
  record Scored(Candidate candidate, Map<String, Double> errors, double cost, int trainings) {
    Scored(Candidate candidate, Map<String, Double> errors) {
      this(candidate, errors, 0, 0);
    }

    /** What one member cost at one origin: NaN for a closed form. */
    double memberCost() {
      return trainings == 0 ? Double.NaN : cost / trainings;
    }
  }

  /**
   * Chooses the form of {@code template} (its name, features, target, cell and members are kept) on
   * the history before {@code testFrom}.
   *
   * @param settings how networks are trained (epochs, patience, seed)
   * @param budget in reference seconds ({@link TrainingCost}); zero tries closed forms only (least
   *     squares, the drift and persistence: a model in seconds), any other the first network step
   *     at least
   * @param finalTrainings how many times each member of the final model is trained: once per
   *     horizon and backtest fold ({@link TrainingRun}); the members the budget pays for are
   *     divided by it
   * @param onEpoch called after each epoch of each network trained
   * @param nanoTime the clock ({@code System::nanoTime}), which only stops a machine {@link
   *     #CLOCK_GUARD} times slower than the reference
   */
  public static Result select(
      History history,
      ModelSpec template,
      TrainingSettings settings,
      LocalDate testFrom,
      Space space,
      Duration budget,
      int finalTrainings,
      WindowPolicy windows,
      IntConsumer onEpoch,
      LongSupplier nanoTime) {
    if (finalTrainings < 1) {
      throw new IllegalArgumentException(
          "the final model is trained at least once, got " + finalTrainings);
    }
    requireBudget(budget);
    long start = nanoTime.getAsLong();
    Origins origins = Origins.before(history, template, testFrom, windows);
    double dickeyFuller = dickeyFuller(history, template.target(), testFrom);
    double levelMargin = levelMargin(dickeyFuller);
    LOG.info(
        "{}: Dickey-Fuller statistic of {} before {}: {}; a level target must win by {}%",
        template.name(),
        template.target(),
        testFrom,
        String.format(Locale.ROOT, "%.2f", dickeyFuller),
        String.format(Locale.ROOT, "%.0f", levelMargin * 100));
    Forms forms = formStage(history, template, origins, space, windows, dickeyFuller);
    Scored drift = drift(history, template, origins, space, windows);
    Scored persistence = persistence(history, drift.candidate(), template, origins, windows);
    List<Candidate> candidates = new ArrayList<>();
    forms.all().forEach(f -> candidates.add(f.candidate()));
    candidates.add(drift.candidate());
    candidates.add(persistence.candidate());
    // networks read the inputs of the simplest form and, where it differs, of the best one: an
    // input least squares can do without (within noise, linearly) may be what a network needs
    // (a season that changes how a day follows the one before), or only room to overfit
    List<Scored> networkForms =
        forms.simplest() == forms.best()
            ? List.of(forms.best())
            : List.of(forms.simplest(), forms.best());
    Scored[] bestNetwork = new Scored[networkForms.size()];
    List<Scored> networks = new ArrayList<>();
    // the stage's share of the budget is spent in reference seconds (TrainingCost); the clock only
    // stops a machine CLOCK_GUARD times slower than the reference
    double share = NETWORK_STAGE_SHARE * budget.toMillis() / 1e3;
    long networksStart = nanoTime.getAsLong();
    boolean tried = false;
    double spent = 0;
    double lastStep = 0; // what the last size and combination cost on every form
    if (budget.isZero()) {
      LOG.info("{}: budget 0: closed forms only, no network tried", template.name());
    }
    search:
    for (int hidden : budget.isZero() ? List.<Integer>of() : space.hidden()) {
      for (TrainingSettings.Combination how :
          List.of(TrainingSettings.Combination.BLEND, TrainingSettings.Combination.RESIDUAL)) {
        double elapsed = (nanoTime.getAsLong() - networksStart) / 1e9;
        boolean first = !tried; // the first is always tried (a budget of 0 tries none)
        // the next is started only if it fits in what is left of the stage's share, counted at what
        // the last one cost: a step begun just under the share would take the final model's
        // members with it (they are paid from the rest)
        if (!first && spent + lastStep > share) {
          LOG.info(
              "{}: budget: no more network candidates ({} of the stage's {} reference seconds"
                  + " spent, the last step cost {})",
              template.name(),
              String.format(Locale.ROOT, "%.1f", spent),
              String.format(Locale.ROOT, "%.1f", share),
              String.format(Locale.ROOT, "%.1f", lastStep));
          break search;
        }
        if (!first && elapsed > CLOCK_GUARD * share) {
          LOG.warn(
              "{}: budget: no more network candidates after {} s by the clock, {} times what the"
                  + " budget gives them on the reference machine: this machine is slower or busy,"
                  + " and another may choose otherwise",
              template.name(),
              Math.round(elapsed),
              CLOCK_GUARD);
          break search;
        }
        double before = spent;
        for (int f = 0; f < networkForms.size(); f++) { // each size and combination on every form
          Scored net =
              networkOnOrigins(
                  history,
                  template,
                  networkForms.get(f).candidate(),
                  hidden,
                  how,
                  settings,
                  space,
                  origins,
                  windows,
                  onEpoch);
          spent += net.cost();
          tried = true;
          candidates.add(net.candidate());
          LOG.info(
              "{}: {} -> MAE {} on the origins",
              template.name(),
              net.candidate().describe(),
              net.candidate().validationMae());
          if (bestNetwork[f] == null
              || net.candidate().validationMae() < bestNetwork[f].candidate().validationMae()) {
            bestNetwork[f] = net;
          }
          networks.add(net);
        }
        lastStep = spent - before;
      }
    }
    List<Scored> simplestFirst =
        new ArrayList<>(List.of(persistence, drift, forms.simplest(), forms.best()));
    for (Scored n : bestNetwork) {
      if (n != null) {
        simplestFirst.add(n);
      }
    }
    double persistenceErrors = persistenceStandardErrors(dickeyFuller);
    Scored chosen =
        simplestWithinNoise(simplestFirst, persistenceErrors, simplerStandardErrors(dickeyFuller));
    List<Scored> allTried = new ArrayList<>(forms.all());
    allTried.add(drift);
    allTried.addAll(networks);
    SuperiorAbility.Outcome superior =
        SuperiorAbility.test(
            persistence.errors(),
            allTried.stream().map(Scored::errors).toList(),
            SuperiorAbility.levelOf(persistenceErrors),
            template.horizon(),
            settings.seed());
    Scored best = best(simplestFirst);
    double[] behind = best == persistence ? null : pairedDifference(persistence, best);
    if (behind != null) {
      LOG.info(
          "{}: persistence is {} behind the best candidate on the origins ({} standard errors; it"
              + " is served within {}; Hansen's test, for the best of {} forms tried: {}{})",
          template.name(),
          String.format(Locale.ROOT, "%.4f", behind[0]),
          behind[1] > 0
              ? String.format(Locale.ROOT, "%.2f", behind[0] / behind[1])
              : "infinitely many (the same on every window)",
          persistenceErrors,
          superior.candidates(),
          superior.describe(),
          mayWander(dickeyFuller) ? "" : ", reported, not applied: the target reverts");
    }
    if (mayWander(dickeyFuller)
        && chosen != persistence
        && !beatsPersistence(superior.p(), persistenceErrors)) {
      LOG.info(
          "{}: persistence served: {} beats it on the origins, but by no more than the best of"
              + " {} forms tried would by luck (Hansen's test on {} windows: {}, not below {})",
          template.name(),
          chosen.candidate().describe(),
          superior.candidates(),
          superior.windows(),
          superior.describe(),
          String.format(Locale.ROOT, "%.3f", SuperiorAbility.levelOf(persistenceErrors)));
      chosen = persistence;
    }
    Candidate c = chosen.candidate();
    boolean network = c.hidden() != null;
    int members =
        network
            ? finalMembers(
                budget.toMillis() / 1e3 - spent,
                chosen.memberCost(),
                finalTrainings,
                template.members())
            : 1;
    if (network && members < template.members()) {
      LOG.info(
          "{}: budget: {} members of {} in the final model{}",
          template.name(),
          members,
          template.members(),
          finalTrainings > 1
              ? " (each trained " + finalTrainings + " times: per horizon and backtest fold)"
              : "");
    }
    ModelSpec spec =
        apply(template, c, network ? c.hidden() : space.hidden().get(0)).withMembers(members);
    TrainingSettings chosenSettings =
        settings.toBuilder()
            .ridge(c.ridge())
            .biasCorrection(c.biasShift())
            .loss(space.lossFor(ValueTransform.named(c.transform())))
            .combination(
                network
                    ? TrainingSettings.Combination.valueOf(c.combination().toUpperCase(Locale.ROOT))
                    : c.stage().equals(PERSISTENCE)
                        ? TrainingSettings.Combination.PERSISTENCE
                        : TrainingSettings.Combination.LINEAR)
            .build();
    LOG.info("{}: chose {}", template.name(), c.describe());
    return new Result(
        spec,
        chosenSettings,
        c,
        List.copyOf(candidates),
        (nanoTime.getAsLong() - start) / 1e9,
        budget.toMillis() / 1e3,
        spent,
        dickeyFuller,
        levelMargin,
        persistenceErrors,
        superior.p(),
        finalTrainings);
  }

  /**
   * The members of a network's final model that the rest of the budget pays for, at least one and
   * at most {@code wanted}: each costs what a member of the chosen network did at an origin, times
   * 1.5 (the final model trains on more windows than any origin), once per horizon and backtest
   * fold ({@code finalTrainings}).
   *
   * @param remaining reference seconds of the budget the search left
   * @param memberCost reference seconds of one member at one origin; not positive: unknown, all
   *     {@code wanted}
   */
  static int finalMembers(double remaining, double memberCost, int finalTrainings, int wanted) {
    if (!(memberCost > 0)) {
      return wanted;
    }
    double each = memberCost * 1.5 * finalTrainings;
    return (int) Math.max(1, Math.min(wanted, Math.floor(remaining / each)));
  }

  /**
   * The first of {@code simplestFirst} (persistence, the drift, the simplest least squares within
   * noise of the best, the best least squares, the best network on each of them) whose error is
   * within {@code otherErrors} standard errors of the best of them (the standard error of the
   * paired differences on the same windows; {@link #simplerStandardErrors}); persistence within
   * {@code persistenceErrors} of them.
   */
  static Scored simplestWithinNoise(
      List<Scored> simplestFirst, double persistenceErrors, double otherErrors) {
    Scored best = best(simplestFirst);
    for (Scored simpler : simplestFirst) {
      boolean persistence = simpler.candidate().stage().equals(PERSISTENCE);
      if (simpler == best
          || withinStandardErrors(simpler, best, persistence ? persistenceErrors : otherErrors)) {
        return simpler;
      }
    }
    return best;
  }

  /**
   * Whether the best of the forms tried beats persistence by more than the best of that many would
   * by luck: whether the p-value of Hansen's test on the origins' windows ({@link SuperiorAbility})
   * is below the level of {@code standardErrors} for one comparison ({@link
   * SuperiorAbility#levelOf}). Applied where the target may wander ({@link #mayWander}) only.
   */
  public static boolean beatsPersistence(double superiorAbilityP, double standardErrors) {
    return superiorAbilityP < SuperiorAbility.levelOf(standardErrors);
  }

  /**
   * The one-sided level of a rule "beaten by {@code standardErrors} standard errors" for one
   * comparison, at which Hansen's test must reject too where the target may wander ({@link
   * #beatsPersistence}).
   */
  public static double levelOf(double standardErrors) {
    return SuperiorAbility.levelOf(standardErrors);
  }

  /** The candidate of least error on the origins. */
  private static Scored best(List<Scored> scored) {
    return scored.stream()
        .min(Comparator.comparingDouble(c -> c.candidate().validationMae()))
        .orElseThrow();
  }

  /**
   * Whether {@code simpler} is worse than {@code best} by no more than one standard error of their
   * paired differences on the windows both forecast.
   */
  static boolean withinOneStandardError(Scored simpler, Scored best) {
    return withinStandardErrors(simpler, best, 1);
  }

  /**
   * Whether {@code simpler} is worse than {@code best} by no more than {@code standardErrors}
   * standard errors of their paired differences on the windows both forecast.
   */
  static boolean withinStandardErrors(Scored simpler, Scored best, double standardErrors) {
    double[] meanAndError = pairedDifference(simpler, best);
    return meanAndError != null && meanAndError[0] <= standardErrors * meanAndError[1];
  }

  /**
   * How much worse {@code simpler} is than {@code best} on the windows both forecast, on average,
   * and the standard error of that mean; null where fewer than two windows are shared.
   */
  private static double[] pairedDifference(Scored simpler, Scored best) {
    double[] d = differences(simpler.errors(), best.errors());
    if (d.length < 2) {
      return null;
    }
    return new double[] {StatUtils.mean(d), Math.sqrt(StatUtils.variance(d) / d.length)};
  }

  /** Effective inputs of a least-squares form: what it reads, shrunk by its ridge. */
  private static double complexity(ModelSpec template, Candidate c) {
    int perStep = template.features().size() + (c.yearly() ? 2 : 0) + (c.weekday() ? 2 : 0);
    return c.window() * perStep / (1 + c.ridge());
  }

  private static double[] differences(Map<String, Double> a, Map<String, Double> b) {
    return a.entrySet().stream()
        .filter(e -> b.containsKey(e.getKey()))
        .mapToDouble(e -> e.getValue() - b.get(e.getKey()))
        .toArray();
  }

  /** The template in a candidate's form, with a highway. */
  static ModelSpec apply(ModelSpec template, Candidate c, int hidden) {
    return template.toBuilder()
        .transform(ValueTransform.named(c.transform()))
        .calendar(c.yearly())
        .weekday(c.weekday())
        .windowLength(c.window())
        .hiddenSize(hidden)
        .highway(true)
        .build();
  }

  /**
   * A search's budget, checked: 0 (closed forms only) or more.
   *
   * @throws IllegalArgumentException where it is negative or null
   */
  public static Duration requireBudget(Duration budget) {
    if (budget == null) {
      throw new IllegalArgumentException("a search needs a budget");
    }
    if (budget.isNegative()) {
      throw new IllegalArgumentException(
          "a budget is 0 (closed forms only) or more, got " + budget);
    }
    return budget;
  }

  /** A history with too few windows before the test part to choose a form on its origins. */
  public static final class TooShortForASearch extends TrainingDataException {
    TooShortForASearch(String message) {
      super(message);
    }
  }

  /** The origins of a history: where each starts and ends, by target day. */
  record Origins(List<LocalDate> from, List<LocalDate> until) {

    static Origins before(
        History history, ModelSpec template, LocalDate testFrom, WindowPolicy windows) {
      List<Sample> before =
          Samples.of(history, template, windows).stream()
              .filter(s -> s.targetDay().isBefore(testFrom))
              .toList();
      if (before.size() < 60) {
        throw new TooShortForASearch(
            "too few windows before "
                + testFrom
                + " to choose a form ("
                + before.size()
                + "; a search needs 60 or more)");
      }
      List<LocalDate> from = new ArrayList<>();
      List<LocalDate> until = new ArrayList<>();
      for (int o = ORIGINS; o >= 1; o--) {
        from.add(Split.dayAtFraction(before, 1 - o * ORIGIN_SHARE));
        until.add(o == 1 ? testFrom : Split.dayAtFraction(before, 1 - (o - 1) * ORIGIN_SHARE));
      }
      return new Origins(from, until);
    }

    int count() {
      return from.size();
    }
  }

  /**
   * The form stage's outcome: every form tried, the best (by {@link #rank}) and the simplest of its
   * transform within one standard error of it.
   */
  private record Forms(List<Scored> all, Scored best, Scored simplest) {}

  /** Every form as least squares on the rolling origins. */
  private static Forms formStage(
      History history,
      ModelSpec template,
      Origins origins,
      Space space,
      WindowPolicy windows,
      double dickeyFuller) {
    double levelMargin = levelMargin(dickeyFuller);
    boolean positive = allPositive(history, template.features());
    List<Scored> forms = new ArrayList<>();
    for (ValueTransform t : space.transforms()) {
      if (t == ValueTransform.LOG_CHANGE && !positive) {
        continue; // a log return needs positive values
      }
      for (boolean yearly : space.yearly()) {
        for (boolean weekday : space.weekday()) {
          for (int window : space.windows()) {
            if (window + t.lag() > space.maxReadingsPerWindow()) {
              continue; // the job keeps no more readings per series
            }
            ModelSpec spec =
                template.toBuilder()
                    .transform(t)
                    .calendar(yearly)
                    .weekday(weekday)
                    .windowLength(window)
                    .build();
            forms.addAll(
                leastSquaresOnOrigins(
                    history,
                    spec,
                    origins,
                    space.ridges(),
                    biasShifts(space, t, dickeyFuller),
                    space.lossFor(t) == TrainingSettings.Loss.MAE,
                    windows));
          }
        }
      }
    }
    if (forms.isEmpty()) {
      throw new TrainingDataException(
          "no form to try on this history: each window and its transform's lag must fit the job's "
              + space.maxReadingsPerWindow()
              + " readings per series, and a log-change needs every value positive");
    }
    forms.sort(Comparator.comparingDouble(f -> rank(f.candidate(), levelMargin)));
    // the simplest form of the best one's transform within one standard error of it: an input or
    // a longer window must earn its place by more than noise
    Scored top = forms.get(0);
    Scored simplest =
        forms.stream()
            .filter(f -> f.candidate().transform().equals(top.candidate().transform()))
            .sorted(Comparator.comparingDouble(f -> complexity(template, f.candidate())))
            .filter(f -> f == top || withinOneStandardError(f, top))
            .findFirst()
            .orElse(top);
    LOG.info(
        "{}: {} forms on {} rolling origins; best {} (MAE {}), simplest within noise of it {} (MAE"
            + " {}), persistence {}",
        template.name(),
        forms.size(),
        origins.count(),
        top.candidate().describe(),
        top.candidate().validationMae(),
        simplest.candidate().describe(),
        simplest.candidate().validationMae(),
        top.candidate().persistenceMae());
    return new Forms(forms, top, simplest);
  }

  /** The drift: a change target with nothing but its mean, persistence with a trend. */
  private static Scored drift(
      History history, ModelSpec template, Origins origins, Space space, WindowPolicy windows) {
    ModelSpec spec =
        template.toBuilder()
            .transform(ValueTransform.CHANGE)
            .calendar(false)
            .weekday(false)
            .windowLength(Math.min(space.windows().get(0), space.maxReadingsPerWindow() - 1))
            .build();
    return leastSquaresOnOrigins(
            history,
            spec,
            origins,
            List.of(DRIFT_RIDGE),
            // never shifted: the median of the newest validation residuals added to the mean change
            // is a trend of those windows alone, which on a random walk does not go on (random
            // walk 12 of docs/BENCHMARKS.md: 4.0% worse than persistence)
            List.of(false),
            space.lossFor(ValueTransform.CHANGE) == TrainingSettings.Loss.MAE,
            windows)
        .get(0);
  }

  /**
   * Persistence on the windows the drift was scored on (the last reading, whatever the window): a
   * candidate of its own, the simplest there is.
   */
  private static Scored persistence(
      History history, Candidate drift, ModelSpec template, Origins origins, WindowPolicy windows) {
    ModelSpec spec =
        template.toBuilder()
            .transform(ValueTransform.named(drift.transform()))
            .calendar(false)
            .weekday(false)
            .windowLength(drift.window())
            .build();
    List<Sample> samples = Samples.of(history, spec, windows);
    Map<String, Double> errors = new LinkedHashMap<>();
    for (int o = 0; o < origins.count(); o++) {
      Split split = originSplit(samples, origins, o);
      if (split != null) {
        split.test().forEach(s -> errors.put(s.key(), Math.abs(s.baseValue() - s.actual())));
      }
    }
    double mae = errors.isEmpty() ? Double.NaN : mean(errors);
    return new Scored(
        new Candidate(
            PERSISTENCE,
            drift.transform(),
            false,
            false,
            drift.window(),
            null,
            null,
            0,
            false,
            mae,
            mae,
            errors.size(),
            0),
        errors);
  }

  /** What forms are ordered by: their pooled MAE, a level's raised by the margin it must win by. */
  private static double rank(Candidate c, double levelMargin) {
    return c.transform().equals(ValueTransform.LEVEL.wireName())
        ? c.validationMae() * (1 + levelMargin)
        : c.validationMae();
  }

  /**
   * How much better than a change target a level target must be on the origins: {@link
   * #LEVEL_MARGIN}, or nothing where the target clearly reverts to its seasonal mean ({@link
   * #dickeyFuller} below {@link #MEAN_REVERTING_BELOW}).
   */
  static double levelMargin(double dickeyFuller) {
    return mayWander(dickeyFuller) ? LEVEL_MARGIN : 0;
  }

  /**
   * Whether a target of this {@link #dickeyFuller} statistic may wander, as a random walk or a
   * price does: it is not below {@link #MEAN_REVERTING_BELOW} (or could not be computed).
   */
  public static boolean mayWander(double dickeyFuller) {
    return !(dickeyFuller < MEAN_REVERTING_BELOW);
  }

  /**
   * Whether a form of transform {@code t} may be shifted by its validation bias, as the search's
   * space allows: never a change target of a series that clearly reverts to its seasonal mean
   * ({@link #mayWander} false), unless the space holds nothing but the shift (a flag). Its changes
   * average out over the season; the median of the newest validation residuals added to every
   * forecast change is a drift of the passing season, which goes on in the forecasts after the
   * season has turned. (A level's shift moves the level it reverts to, as a warmer year does.)
   */
  public static List<Boolean> biasShifts(Space space, ValueTransform t, double dickeyFuller) {
    return t != ValueTransform.LEVEL
            && !mayWander(dickeyFuller)
            && space.biasShift().contains(false)
        ? List.of(false)
        : space.biasShift();
  }

  /**
   * By how many standard errors the best candidate must beat persistence to be served instead:
   * {@link #WANDERING_STANDARD_ERRORS} where the target may wander ({@link #dickeyFuller} not below
   * {@link #MEAN_REVERTING_BELOW}), one where it clearly reverts (where no other simpler candidate
   * is preferred within noise: {@link #simplerStandardErrors}).
   */
  static double persistenceStandardErrors(double dickeyFuller) {
    return mayWander(dickeyFuller) ? WANDERING_STANDARD_ERRORS : 1;
  }

  /**
   * Standard errors within which a simpler candidate than the best, persistence aside, is served
   * instead: one where the target may wander ({@link #mayWander}), where a form that wins on the
   * origins by noise may be one that luck favoured and the days after punish; none where it clearly
   * reverts to its seasonal mean, where the validation windows choose: on generated seasonal series
   * a network that learns how the season changes one day's follow-on from the last beat its least
   * squares by less than one standard error on the origins, and then by 2-8% on the days after,
   * where least squares had been served (docs/BENCHMARKS.md, "The best on the origins where the
   * target reverts"). There persistence alone keeps its standard error ({@link
   * #persistenceStandardErrors}), and Hansen's test is not applied: the winner of a hundred forms
   * is served as it is.
   */
  static double simplerStandardErrors(double dickeyFuller) {
    return mayWander(dickeyFuller) ? 1 : 0;
  }

  /** Whether readings from {@code first} to {@code last} have seen every day of the year. */
  static boolean spansAYear(LocalDate first, LocalDate last) {
    return ChronoUnit.DAYS.between(first, last) >= 364;
  }

  /**
   * The largest augmented Dickey-Fuller statistic of {@code target} over the series, on each one's
   * readings before {@code testFrom} in day order: the t statistic of the previous reading in a
   * least squares of each change on it, a constant, the day of year's sine and cosine (only where
   * the readings span a whole year: on part of one the sine fits a trend, and a series that wanders
   * looks as if it reverted to it) and {@link #DICKEY_FULLER_LAGS} changes before. Far below zero,
   * the series reverts to its seasonal mean; near zero, it wanders. Successive readings are taken
   * across a gap (under a unit root a gap looks like a larger step, which does not make a series
   * look mean-reverting). Positive infinity, and the margin stays, where any series has fewer than
   * 10 × (lags + 4) readings before {@code testFrom}, or is fitted exactly (a constant, a straight
   * line).
   */
  static double dickeyFuller(History history, String target, LocalDate testFrom) {
    double largest = Double.NEGATIVE_INFINITY;
    for (List<Reading> readings : history.bySeries().values()) {
      List<Reading> before =
          readings.stream()
              .filter(r -> r.getDay().isBefore(testFrom) && r.getFeatures().get(target) != null)
              .toList(); // in day order
      int n = before.size();
      int lags = DICKEY_FULLER_LAGS;
      if (n < 10 * (lags + 4)) {
        return Double.POSITIVE_INFINITY;
      }
      // the seasonal mean only over a whole year (see above)
      int seasonal = spansAYear(before.get(0).getDay(), before.get(n - 1).getDay()) ? 2 : 0;
      double[] y = before.stream().mapToDouble(r -> r.getFeatures().get(target)).toArray();
      double[] change = new double[n - lags - 1];
      double[][] x = new double[n - lags - 1][1 + seasonal + lags];
      for (int i = lags + 1; i < n; i++) {
        double[] row = x[i - lags - 1];
        row[0] = y[i - 1];
        if (seasonal > 0) {
          double angle = WindowEncoder.dayOfYearAngle((int) before.get(i).getDay().toEpochDay());
          row[1] = Math.sin(angle);
          row[2] = Math.cos(angle);
        }
        for (int j = 1; j <= lags; j++) {
          row[seasonal + j] = y[i - j] - y[i - j - 1];
        }
        change[i - lags - 1] = y[i] - y[i - 1];
      }
      OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression(); // with a constant
      ols.newSampleData(change, x);
      try {
        if (ols.calculateResidualSumOfSquares() <= 1e-12 * ols.calculateTotalSumOfSquares()) {
          return Double.POSITIVE_INFINITY; // fitted exactly (a straight line): nothing to tell
        }
        double t =
            ols.estimateRegressionParameters()[1]
                / ols.estimateRegressionParametersStandardErrors()[1];
        largest = Math.max(largest, Double.isFinite(t) ? t : Double.POSITIVE_INFINITY);
      } catch (SingularMatrixException e) {
        return Double.POSITIVE_INFINITY; // a constant series: nothing to tell
      }
    }
    return largest == Double.NEGATIVE_INFINITY ? Double.POSITIVE_INFINITY : largest;
  }

  /**
   * Least squares of one form, per ridge, with the bias shift where it helps (or as the space
   * says), on the rolling origins.
   *
   * @param medianShift whether the bias shift is the median of the validation residuals rather than
   *     their mean: as the model served computes it, under absolute error
   */
  static List<Scored> leastSquaresOnOrigins(
      History history,
      ModelSpec spec,
      Origins origins,
      List<Double> ridges,
      List<Boolean> biasShift,
      boolean medianShift,
      WindowPolicy windows) {
    long t0 = System.nanoTime();
    List<Sample> samples = Samples.of(history, spec, windows);
    int r = ridges.size();
    List<Map<String, Double>> plain = new ArrayList<>();
    List<Map<String, Double>> shifted = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      plain.add(new LinkedHashMap<>());
      shifted.add(new LinkedHashMap<>());
    }
    Map<String, Double> persistence = new LinkedHashMap<>();
    for (int o = 0; o < origins.count(); o++) {
      Split split = originSplit(samples, origins, o);
      if (split == null) {
        continue;
      }
      ModelSpec fitted = spec.withScaling(ScalingFit.fit(spec, split.train()));
      List<LinearFit> fits = LinearFit.fit(fitted, split.train(), ridges);
      for (int i = 0; i < r; i++) {
        LinearFit fit = fits.get(i);
        double shift = residualShift(fit, split.validation(), medianShift);
        for (Sample s : split.test()) {
          double scaled = fit.scaled(s);
          plain
              .get(i)
              .put(
                  s.key(), Math.abs(fit.encoder().toRealUnits(s.baseValue(), scaled) - s.actual()));
          shifted
              .get(i)
              .put(
                  s.key(),
                  Math.abs(fit.encoder().toRealUnits(s.baseValue(), scaled + shift) - s.actual()));
        }
      }
      for (Sample s : split.test()) {
        persistence.put(s.key(), Math.abs(s.baseValue() - s.actual()));
      }
    }
    if (persistence.isEmpty()) {
      return List.of();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double persistenceMae = mean(persistence);
    List<Scored> out = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      double withShift = mean(shifted.get(i));
      double without = mean(plain.get(i));
      boolean shiftHelps =
          biasShift.contains(true) && (!biasShift.contains(false) || withShift < without);
      out.add(
          new Scored(
              new Candidate(
                  "form",
                  spec.targetTransform().wireName(),
                  spec.calendar(),
                  spec.weekday(),
                  spec.windowLength(),
                  null,
                  null,
                  ridges.get(i),
                  shiftHelps,
                  shiftHelps ? withShift : without,
                  persistenceMae,
                  persistence.size(),
                  seconds / r),
              shiftHelps ? shifted.get(i) : plain.get(i)));
    }
    return out;
  }

  /** Origin {@code o} of a form's windows: fit, validation, and the block it is scored on. */
  private static Split originSplit(List<Sample> samples, Origins origins, int o) {
    List<Sample> before =
        samples.stream().filter(s -> s.targetDay().isBefore(origins.until().get(o))).toList();
    try {
      Split split = Split.chronological(before, origins.from().get(o), origins.until().get(o));
      return split.validation().isEmpty() || split.train().size() < 20 ? null : split;
    } catch (IllegalArgumentException tooFew) {
      return null;
    }
  }

  private static double mean(Map<String, Double> errors) {
    return errors.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /**
   * The bias shift windows would give a fit, in scaled units: the mean or median of target minus
   * fit, centred as the served model centres it ({@link NetworkTrainer#centre}). These residuals
   * are out of sample (the fit saw only the training part); the served model refits on training and
   * validation and centres its in-sample residuals there, so the two shifts agree exactly only
   * where the fit has no coefficients to refit (the drift).
   */
  private static double residualShift(LinearFit fit, List<Sample> samples, boolean median) {
    return NetworkTrainer.centre(
        samples.stream()
            .mapToDouble(
                s -> fit.encoder().networkTarget(s.baseValue(), s.actual()) - fit.scaled(s))
            .toArray(),
        median);
  }

  /** A small ensemble on a form, trained as the final model is at each origin, scored after it. */
  private static Scored networkOnOrigins(
      History history,
      ModelSpec template,
      Candidate form,
      int hidden,
      TrainingSettings.Combination how,
      TrainingSettings settings,
      Space space,
      Origins origins,
      WindowPolicy windows,
      IntConsumer onEpoch) {
    long t0 = System.nanoTime();
    ModelSpec spec = apply(template, form, hidden).withMembers(CANDIDATE_MEMBERS);
    TrainingSettings trained =
        settings.toBuilder()
            .ridge(form.ridge())
            .biasCorrection(form.biasShift())
            .loss(space.lossFor(spec.targetTransform()))
            .combination(how)
            .build();
    List<Sample> samples = Samples.of(history, spec, windows);
    Map<String, Double> errors = new LinkedHashMap<>();
    Map<String, Double> persistence = new LinkedHashMap<>();
    double cost = 0;
    int trainedOrigins = 0;
    for (int o = 0; o < origins.count(); o++) {
      Split split = originSplit(samples, origins, o);
      if (split == null) {
        continue;
      }
      trainedOrigins++;
      ModelSpec fitted = spec.withScaling(ScalingFit.fit(spec, split.train()));
      NetworkTrainer.Result result =
          NetworkTrainer.train(fitted, trained, split.train(), split.validation(), onEpoch);
      cost += TrainingCost.of(spec, result, split.train().size() + split.validation().size());
      try (LoadedModel model = result.model()) {
        double[] predicted = ModelScoring.predict(model, split.test());
        for (int i = 0; i < predicted.length; i++) {
          Sample s = split.test().get(i);
          errors.put(s.key(), Math.abs(predicted[i] - s.actual()));
          persistence.put(s.key(), Math.abs(s.baseValue() - s.actual()));
        }
      }
    }
    return new Scored(
        new Candidate(
            "network",
            spec.targetTransform().wireName(),
            spec.calendar(),
            spec.weekday(),
            spec.windowLength(),
            hidden,
            how.wireName(),
            form.ridge(),
            form.biasShift(),
            mean(errors),
            mean(persistence),
            errors.size(),
            (System.nanoTime() - t0) / 1e9),
        errors,
        cost,
        trainedOrigins * CANDIDATE_MEMBERS);
  }

  private static boolean allPositive(History history, List<String> features) {
    return history.bySeries().values().stream()
        .flatMap(List::stream)
        .allMatch(
            r ->
                features.stream()
                    .allMatch(
                        f -> {
                          Double v = r.getFeatures().get(f);
                          return v == null || v > 0;
                        }));
  }
}
