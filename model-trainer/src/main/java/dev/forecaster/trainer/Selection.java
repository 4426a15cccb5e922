package dev.forecaster.trainer;

import dev.forecaster.model.History;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowPolicy;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses a model's form on the history before the test part only; the test part is never looked
 * at. Two stages, within a time budget:
 *
 * <ol>
 *   <li><b>Form</b> (closed form, fast): every combination of target transform (level, change,
 *       log-change where every value is positive; inputs transformed alike), day-of-year and
 *       day-of-week inputs, window length and ridge is fitted as least squares and scored on three
 *       rolling origins inside the training period. Each origin mimics the final training: fit on
 *       the first 85% of what precedes it, a bias estimated on the last 15%, scored on the next
 *       tenth of the period; whether the bias shift helps is decided there too. The form with the
 *       lowest pooled MAE wins.
 *   <li><b>Network</b>: on that form, a small ensemble per hidden size is trained as the final
 *       model is (a highway of that least squares, members on its residuals, gated on validation)
 *       and scored on the validation windows; the best size wins.
 * </ol>
 *
 * The final model is then trained by {@link TrainingRun} with the chosen form and as many members
 * as the remaining budget allows.
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
   * clearly on the rolling origins, not by the noise of one period.
   */
  static final double LEVEL_MARGIN = 0.02;

  /** Members of each network candidate. */
  static final int CANDIDATE_MEMBERS = 2;

  /** Share of the budget the network stage may use; the final training gets the rest. */
  static final double NETWORK_STAGE_SHARE = 0.5;

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
      double ridge,
      boolean biasShift,
      double validationMae,
      double persistenceMae,
      int windows,
      double seconds) {

    public String describe() {
      return String.format(
          Locale.ROOT,
          "%s %s%s%s window %d%s ridge %s%s",
          stage,
          transform,
          yearly ? " +day-of-year" : "",
          weekday ? " +day-of-week" : "",
          window,
          hidden == null ? "" : " hidden " + hidden,
          ridge <= LinearFit.OLS ? "0" : Double.toString(ridge),
          biasShift ? " +bias shift" : "");
    }
  }

  /**
   * What the search chose: the spec (unfitted, with the members the budget allows) and settings to
   * train the final model with, every candidate tried, and the time it took.
   */
  public record Result(
      ModelSpec spec,
      TrainingSettings settings,
      Candidate chosen,
      List<Candidate> candidates,
      double seconds,
      double budgetSeconds) {}

  private Selection() {}

  /**
   * Chooses the form of {@code template} (its name, features, target, cell and members are kept) on
   * the history before {@code testFrom}.
   *
   * @param settings how networks are trained (epochs, patience, loss, seed)
   * @param onEpoch called after each epoch of each network trained
   */
  public static Result select(
      History history,
      ModelSpec template,
      TrainingSettings settings,
      LocalDate testFrom,
      Space space,
      Duration budget,
      WindowPolicy windows,
      IntConsumer onEpoch) {
    long start = System.nanoTime();
    List<Candidate> candidates = new ArrayList<>();
    Candidate form = formStage(history, template, testFrom, space, windows, candidates);
    ModelSpec chosenForm = apply(template, form, space.hidden().get(0));
    TrainingSettings chosenSettings =
        settings.toBuilder()
            .ridge(form.ridge())
            .biasCorrection(form.biasShift())
            .loss(space.lossFor(ValueTransform.named(form.transform())))
            .build();
    double perMember = Double.NaN;
    Candidate best = null;
    for (int hidden : space.hidden()) {
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (best != null && elapsed > NETWORK_STAGE_SHARE * budget.toSeconds()) {
        LOG.info(
            "{}: budget: network candidates from hidden {} on not tried", template.name(), hidden);
        break;
      }
      long t0 = System.nanoTime();
      Candidate c =
          networkCandidate(
              history, apply(template, form, hidden), chosenSettings, testFrom, windows, onEpoch);
      double seconds = (System.nanoTime() - t0) / 1e9;
      perMember = seconds / CANDIDATE_MEMBERS;
      candidates.add(c);
      LOG.info("{}: {} -> validation MAE {}", template.name(), c.describe(), c.validationMae());
      if (best == null || c.validationMae() < best.validationMae()) {
        best = c;
      }
    }
    double remaining = budget.toSeconds() - (System.nanoTime() - start) / 1e9;
    int members =
        (int) Math.max(1, Math.min(template.members(), Math.floor(remaining / perMember)));
    if (members < template.members()) {
      LOG.info(
          "{}: budget: {} members of {} in the final model",
          template.name(),
          members,
          template.members());
    }
    ModelSpec spec = apply(template, form, best.hidden()).withMembers(members);
    return new Result(
        spec,
        chosenSettings,
        best,
        List.copyOf(candidates),
        (System.nanoTime() - start) / 1e9,
        budget.toSeconds());
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

  /** Every form as least squares on rolling origins; returns the best. */
  private static Candidate formStage(
      History history,
      ModelSpec template,
      LocalDate testFrom,
      Space space,
      WindowPolicy windows,
      List<Candidate> out) {
    boolean positive = allPositive(history, template.features());
    List<Candidate> forms = new ArrayList<>();
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
                rollingOrigins(
                    history, spec, testFrom, space.ridges(), space.biasShift(), windows));
          }
        }
      }
    }
    if (forms.isEmpty()) {
      throw new IllegalArgumentException(
          "no form to try: the history has too few windows before " + testFrom);
    }
    forms.sort(Comparator.comparingDouble(Selection::rank));
    out.addAll(forms);
    Candidate best = forms.get(0);
    LOG.info(
        "{}: {} forms on {} rolling origins; best {} (MAE {} vs persistence {})",
        template.name(),
        forms.size(),
        ORIGINS,
        best.describe(),
        best.validationMae(),
        best.persistenceMae());
    return best;
  }

  /** What forms are ordered by: their pooled MAE, a level's raised by the margin it must win by. */
  private static double rank(Candidate c) {
    return c.transform().equals(ValueTransform.LEVEL.wireName())
        ? c.validationMae() * (1 + LEVEL_MARGIN)
        : c.validationMae();
  }

  /**
   * Least squares of one form, per ridge, with and without the bias shift, on {@link #ORIGINS}
   * rolling origins before the test part.
   */
  static List<Candidate> rollingOrigins(
      History history,
      ModelSpec spec,
      LocalDate testFrom,
      List<Double> ridges,
      List<Boolean> biasShift,
      WindowPolicy windows) {
    long t0 = System.nanoTime();
    List<Sample> before =
        Samples.of(history, spec, windows).stream()
            .filter(s -> s.targetDay().isBefore(testFrom))
            .toList();
    if (before.size() < 50) {
      return List.of();
    }
    int r = ridges.size();
    double[] plain = new double[r];
    double[] shifted = new double[r];
    double persistence = 0;
    int n = 0;
    for (int o = ORIGINS; o >= 1; o--) {
      LocalDate from = Split.dayAtFraction(before, 1 - o * ORIGIN_SHARE);
      LocalDate until = o == 1 ? testFrom : Split.dayAtFraction(before, 1 - (o - 1) * ORIGIN_SHARE);
      Split split;
      try {
        split = Split.chronological(before, from, until);
      } catch (IllegalArgumentException tooFew) {
        continue;
      }
      if (split.validation().isEmpty() || split.train().size() < 20) {
        continue;
      }
      ModelSpec fitted = spec.withScaling(ScalingFit.fit(spec, split.train()));
      List<LinearFit> fits = LinearFit.fit(fitted, split.train(), ridges);
      for (int i = 0; i < r; i++) {
        LinearFit fit = fits.get(i);
        double shift = meanResidual(fit, split.validation());
        for (Sample s : split.test()) {
          double scaled = fit.scaled(s);
          plain[i] += Math.abs(fitted(fit, s, scaled) - s.actual());
          shifted[i] += Math.abs(fitted(fit, s, scaled + shift) - s.actual());
        }
      }
      for (Sample s : split.test()) {
        persistence += Math.abs(s.baseValue() - s.actual());
      }
      n += split.test().size();
    }
    if (n == 0) {
      return List.of();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<Candidate> out = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      boolean shiftHelps =
          biasShift.contains(true) && (!biasShift.contains(false) || shifted[i] < plain[i]);
      out.add(
          new Candidate(
              "form",
              spec.targetTransform().wireName(),
              spec.calendar(),
              spec.weekday(),
              spec.windowLength(),
              null,
              ridges.get(i),
              shiftHelps,
              (shiftHelps ? shifted[i] : plain[i]) / n,
              persistence / n,
              n,
              seconds / r));
    }
    return out;
  }

  private static double fitted(LinearFit fit, Sample s, double scaled) {
    return fit.encoder().toRealUnits(s.baseValue(), scaled);
  }

  /** Mean of target minus fit on windows, in scaled units: the bias shift they would give. */
  private static double meanResidual(LinearFit fit, List<Sample> samples) {
    if (samples.isEmpty()) {
      return 0;
    }
    double sum = 0;
    for (Sample s : samples) {
      sum += fit.encoder().networkTarget(s.baseValue(), s.actual()) - fit.scaled(s);
    }
    return sum / samples.size();
  }

  /**
   * A small ensemble of the form trained as the final model is, scored on the validation windows.
   */
  private static Candidate networkCandidate(
      History history,
      ModelSpec spec,
      TrainingSettings settings,
      LocalDate testFrom,
      WindowPolicy windows,
      IntConsumer onEpoch) {
    long t0 = System.nanoTime();
    Split split = Split.chronological(Samples.of(history, spec, windows), testFrom);
    ModelSpec fitted =
        spec.withMembers(CANDIDATE_MEMBERS).withScaling(ScalingFit.fit(spec, split.train()));
    NetworkTrainer.Result result =
        NetworkTrainer.train(fitted, settings, split.train(), split.validation(), onEpoch);
    double mae;
    double persistence;
    try (LoadedModel model = result.model()) {
      double[] predicted = ModelScoring.predict(model, split.validation());
      double[] actual = split.validation().stream().mapToDouble(Sample::actual).toArray();
      mae = Metrics.of(predicted, actual).mae();
      persistence = Metrics.of(Baselines.persistence(split.validation()), actual).mae();
    }
    return new Candidate(
        "network",
        spec.targetTransform().wireName(),
        spec.calendar(),
        spec.weekday(),
        spec.windowLength(),
        spec.hiddenSize(),
        settings.ridge(),
        settings.biasCorrection(),
        mae,
        persistence,
        split.validation().size(),
        (System.nanoTime() - t0) / 1e9);
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
