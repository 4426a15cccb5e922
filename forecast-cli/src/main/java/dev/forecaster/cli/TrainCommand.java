package dev.forecaster.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.model.WindowEncoder;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.csv.CsvReadSummary;
import dev.forecaster.trainer.KafkaHistory;
import dev.forecaster.trainer.Metrics;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.Selection;
import dev.forecaster.trainer.TrainingPreset;
import dev.forecaster.trainer.TrainingRun;
import dev.forecaster.trainer.TrainingSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forecast train}: one training round from a CSV or the readings topic. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Trains a GRU or LSTM forecaster, backtests it against persistence and least squares on the"
          + " same chronological test windows, and publishes it to the models topic only if it"
          + " beats persistence and the model in service (or, as good as persistence, beats the"
          + " model in service; or with --force).",
      "History: a CSV through a column mapping (--preset, --csv and the mapping flags) or the"
          + " readings topic (--from-kafka). A preset sets every training default; each flag"
          + " overrides one."
    })
public final class TrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CsvMappingOptions csv;

  @Option(
      names = "--from-kafka",
      description =
          "Read the history from the readings topic instead of a CSV (bounded: up to its end"
              + " offsets at start).")
  boolean fromKafka;

  @Option(
      names = "--readings-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.Defaults.READINGS,
      description = "Readings topic (default: ${DEFAULT-VALUE}).")
  String readingsTopic;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--models-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.Defaults.MODELS,
      description = "Compacted models topic (default: ${DEFAULT-VALUE}).")
  String modelsTopic;

  @Mixin ModelOptions model;

  @Option(
      names = "--no-publish",
      description = "Train, backtest and report only: no broker needed.")
  boolean noPublish;

  @Option(
      names = "--force",
      description = "Publish even if the model does not beat persistence or the model in service.")
  boolean force;

  @Option(
      names = "--models-dir",
      paramLabel = "DIR",
      description = "Also keep published models in DIR/<name>/v<version>/.")
  Path modelsDir;

  @Option(
      names = "--metrics-json",
      paramLabel = "PATH",
      description = "Write the backtest table as JSON.")
  Path metricsJson;

  @Option(
      names = "--chart",
      paramLabel = "PATH",
      description = "Write a PNG: actual vs predicted on the test part, and the loss curves.")
  Path chart;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    TrainingPreset preset = csv.preset() != null ? TrainingPreset.named(csv.preset()) : null;
    ModelSpec template = template(preset); // usage errors before any data is read
    Selection.Space search = model.search(preset);
    Duration budget = model.budget();
    History history = loadHistory(out);
    TrainingSettings settings = model.settings(preset);
    ModelRegistry registry =
        noPublish ? null : new ModelRegistry(kafka.clientProperties(), modelsTopic);
    if (registry != null) {
      registry.ensureTopic(); // fails fast, naming the address, when no broker answers
    }
    TrainingRun.Request request =
        TrainingRun.Request.backtest(template, settings, model.testFrom())
            .to(registry)
            .forced(force)
            .keepingCopiesIn(modelsDir)
            .withWindows(model.windowPolicy())
            .searching(search, budget)
            .withFolds(model.folds());
    TrainingRun.Outcome outcome;
    try (ProgressBar bar = ProgressBars.of("training " + template.name(), 0, " epochs")) {
      outcome = new TrainingRun(Clock.systemUTC()).run(history, request, epoch -> bar.step());
    }
    report(out, outcome, search, budget.isZero());
    if (metricsJson != null) {
      writeJson(metricsJson, outcome);
      out.println("metrics:  " + metricsJson);
    }
    if (chart != null) {
      BacktestChart.write(
          chart,
          outcome.spec().name() + " (" + Selection.served(outcome.spec()) + ")",
          outcome.test(),
          outcome.predicted(),
          outcome.members());
      out.println("chart:    " + chart);
    }
    out.flush();
    return 0;
  }

  private History loadHistory(PrintWriter out) throws Exception {
    if (fromKafka) {
      Topics.requireExisting(
          kafka.clientProperties(), List.of(readingsTopic), KafkaOptions.CHECK_TIMEOUT);
      KafkaHistory.Read read =
          KafkaHistory.read(kafka.clientProperties(), readingsTopic, Duration.ofSeconds(30));
      out.printf(
          "history:  %d readings of %d series from topic %s (%d records, %d undecodable skipped)%n",
          read.history().readings(),
          read.history().bySeries().size(),
          readingsTopic,
          read.records(),
          read.undecodable());
      read.requireSomeDecoded(readingsTopic);
      printLeftOut(out, read.history());
      return read.history();
    }
    Path file = csv.csv();
    List<Reading> readings = new ArrayList<>();
    CsvReadSummary summary = csv.reader().read(file, readings::add);
    out.printf(
        "history:  %d readings of %d series from %s (%d bad rows skipped)%n",
        summary.readings(), summary.readingsPerSeries().size(), file, summary.badRows());
    History history = History.ofFile(readings);
    printLeftOut(out, history);
    return history;
  }

  /** What the window policy leaves out of the history, as the job would dead-letter it. */
  private static void printLeftOut(PrintWriter out, History history) {
    if (history.duplicates() + history.late() + history.invalid() > 0) {
      out.printf(
          "          left out as the job would: %d duplicate days (the first reading of a day"
              + " stays), %d late, %d invalid%n",
          history.duplicates(), history.late(), history.invalid());
    }
  }

  private ModelSpec template(TrainingPreset preset) {
    try {
      return model.template(preset, csv.features());
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /**
   * The console's account of a training.
   *
   * @param search the forms the search could choose from (null: no search)
   * @param closedFormsOnly whether the budget was 0
   */
  private static void report(
      PrintWriter out, TrainingRun.Outcome o, Selection.Space search, boolean closedFormsOnly) {
    ModelSpec s = o.spec();
    if (o.selection() != null) {
      Selection.Result sel = o.selection();
      out.printf(
          "search:   %d candidates in %.1f s, %s, on the history before %s only%n",
          sel.candidates().size(),
          sel.seconds(),
          closedFormsOnly
              ? "closed forms only (a budget of 0)"
              : String.format(
                  "networks %.1f s of the %.1f s budget (reference seconds)",
                  sel.referenceSeconds(), sel.budgetSeconds()),
          o.testFrom());
      out.printf(
          "          a level target had to beat a change target by %.0f%% and any model"
              + " persistence by %.0f standard error(s) (Dickey-Fuller statistic %s: %s)%n",
          sel.levelMargin() * 100,
          sel.persistenceStandardErrors(),
          Double.isFinite(sel.dickeyFuller())
              ? String.format("%.2f", sel.dickeyFuller())
              : "not computed",
          sel.levelMargin() == 0
              ? "the target reverts to its seasonal mean"
                  + (Selection.biasShifts(search, ValueTransform.CHANGE, sel.dickeyFuller())
                          .contains(true)
                      ? ""
                      : "; a change target is not shifted")
                  + "; no simpler form is preferred within noise but persistence"
              : "the target may wander, as a random walk or a price does");
      boolean beats =
          Selection.beatsPersistence(sel.superiorAbilityP(), sel.persistenceStandardErrors());
      out.printf(
          "          the best of %d forms tried against persistence, Hansen's test: p %s, %s the"
              + " level %.3f%s%n",
          sel.candidates().size() - 1,
          sel.superiorAbilityP() < 0.001
              ? "< 0.001"
              : String.format(Locale.ROOT, "%.3f", sel.superiorAbilityP()),
          beats ? "below" : "not below",
          Selection.levelOf(sel.persistenceStandardErrors()),
          !Selection.mayWander(sel.dickeyFuller())
              ? " (not applied: the target reverts to its seasonal mean)"
              : beats ? "" : ": persistence is served");
      // the networks, the five best least-squares forms, then the drift and persistence
      List<Selection.Candidate> shown = new ArrayList<>();
      sel.candidates().stream().filter(c -> c.stage().equals("network")).forEach(shown::add);
      sel.candidates().stream()
          .filter(c -> c.stage().equals("form") && !c.naive())
          .limit(5)
          .forEach(shown::add);
      sel.candidates().stream().filter(Selection.Candidate::naive).forEach(shown::add);
      for (Selection.Candidate c : shown) {
        out.printf(
            "          %-60s validation MAE %.4f%s%n",
            c.describe(),
            c.validationMae(),
            c.stage().equals("form") && !c.naive()
                ? String.format(" (persistence %.4f)", c.persistenceMae())
                : "");
      }
      out.printf("chosen:   %s%n", sel.chosen().describe());
    }
    // what is served: a network (joined to its least squares), least squares alone, the drift or
    // persistence
    String served = Selection.served(s);
    boolean network = served.equals(s.architecture().wireName());
    String horizons =
        s.horizons() == 1
            ? "horizon " + s.horizon()
            : "horizons " + s.horizon() + ".." + s.horizonOf(s.horizons() - 1);
    if (served.equals(Selection.PERSISTENCE)) {
      out.printf("model:    %s, persistence, %s, target %s%n", s.name(), horizons, s.target());
      out.printf("          persistence: every forecast is the last reading%n");
    } else {
      out.printf(
          "model:    %s, %s, window %d, %s%s, target %s (%s), inputs %s%s%s%s%n",
          s.name(),
          served,
          s.windowLength(),
          horizons,
          network ? String.format(", hidden %d, %d member(s)", s.hiddenSize(), s.members()) : "",
          s.target(),
          s.targetTransform().wireName(),
          s.features(),
          s.calendar() ? " +day-of-year" : "",
          s.weekday() ? " +day-of-week" : "",
          s.highway() && network
              ? String.format(
                  " +highway (members' gate %.2f)",
                  s.trainingMetrics().getOrDefault("memberGate", Double.NaN))
              : "");
    }
    out.printf(
        "test:     %d windows, targets %s .. %s%s%n",
        o.model().n(),
        o.testFrom(),
        o.testTo(),
        o.folds().size() > 1
            ? " in " + o.folds().size() + " rolling-origin folds (pooled below)"
            : "");
    if (o.outsideFittedLevels() > 0) {
      out.printf(
          "          %d of them persistence: windows lying whole far outside the levels the model"
              + " was fitted on (every reading more than %.0f standard deviations from their mean;"
              + " a series that was not in the training period?)%n",
          o.outsideFittedLevels(), WindowEncoder.LEVEL_GUARD);
    }
    out.printf("%n  %-18s %10s %10s %8s %8s %7s%n", "", "MAE", "RMSE", "MAPE %", "sMAPE %", "MASE");
    row(out, "model", o.model());
    row(out, "persistence", o.persistence());
    row(out, "linear (OLS)", o.linear());
    if (o.seasonalNaive() != null) {
      row(out, "seasonal naive " + o.season() + "d", o.seasonalNaive());
    }
    if (o.folds().size() > 1) {
      for (TrainingRun.Fold f : o.folds()) {
        out.printf(
            "  fold %d %s .. %s: model %.4f, persistence %.4f, linear %.4f%n",
            f.index(),
            f.testFrom(),
            f.testTo(),
            f.scores().model().mae(),
            f.scores().persistence().mae(),
            f.scores().linear().mae());
      }
    }
    if (!o.coverage().isEmpty()) {
      out.printf(
          "%n  intervals, test coverage as served (rolling over the newest %d residuals):%s%n",
          Conformal.ROLLING,
          o.coverage().entrySet().stream()
              .map(
                  c ->
                      String.format(
                          " %.0f%% %.1f%% (fixed at validation: %.1f%%)",
                          c.getKey() * 100,
                          100 * c.getValue(),
                          100 * o.staticCoverage().getOrDefault(c.getKey(), Double.NaN)))
              .collect(Collectors.joining(";")));
    }
    if (o.byHorizon().size() > 1) {
      out.printf(
          "%n  by horizon (each on its own test windows)   MAE  persistence     linear   coverage"
              + " as served%n");
      for (TrainingRun.HorizonOutcome h : o.byHorizon()) {
        out.printf(
            "  h = %-2d  %5d windows %16.4f %12.4f %10.4f   %s%n",
            h.horizon(),
            h.scores().model().n(),
            h.scores().model().mae(),
            h.scores().persistence().mae(),
            h.scores().linear().mae(),
            h.coverage().entrySet().stream()
                .map(c -> String.format("%.0f%% %.1f%%", c.getKey() * 100, 100 * c.getValue()))
                .collect(Collectors.joining(", ")));
      }
    }
    if (o.champion() != null) {
      out.printf(
          "  %-18s %10.4f   (challenger %.4f on the %d test windows both forecast)%n",
          "champion v" + o.champion().version(),
          o.champion().championMae(),
          o.champion().challengerMae(),
          o.champion().commonWindows());
    }
    out.printf("%ndecision: %s%n", o.explanation());
  }

  private static void row(PrintWriter out, String name, Metrics m) {
    out.printf(
        "  %-18s %10.4f %10.4f %8.2f %8.2f %7.3f%n",
        name, m.mae(), m.rmse(), m.mape(), m.smape(), m.mase());
  }

  private static void writeJson(Path file, TrainingRun.Outcome o) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    metrics(root.putObject("model"), o.model());
    metrics(root.putObject("persistence"), o.persistence());
    metrics(root.putObject("linear"), o.linear());
    if (o.seasonalNaive() != null) {
      metrics(root.putObject("seasonalNaive"), o.seasonalNaive()).put("seasonDays", o.season());
    } else {
      root.putNull("seasonalNaive");
    }
    ObjectNode coverage = root.putObject("coverage");
    o.coverage().forEach((level, share) -> coverage.put(level.toString(), share));
    ObjectNode fixed = root.putObject("coverageFixedAtValidation");
    o.staticCoverage().forEach((level, share) -> fixed.put(level.toString(), share));
    // every horizon on its own test windows, beside persistence and least squares on the same
    ArrayNode byHorizon = root.putArray("byHorizon");
    for (TrainingRun.HorizonOutcome h : o.byHorizon()) {
      ObjectNode entry =
          byHorizon
              .addObject()
              .put("horizon", h.horizon())
              .put("windows", h.scores().model().n())
              .put("mae", h.scores().model().mae())
              .put("persistenceMae", h.scores().persistence().mae())
              .put("linearMae", h.scores().linear().mae());
      ObjectNode served = entry.putObject("coverage");
      h.coverage().forEach((level, share) -> served.put(level.toString(), share));
      ObjectNode atValidation = entry.putObject("coverageFixedAtValidation");
      h.staticCoverage().forEach((level, share) -> atValidation.put(level.toString(), share));
    }
    // every horizon's test windows together, as served
    Map<Double, double[]> pooled = new TreeMap<>();
    for (TrainingRun.HorizonOutcome h : o.byHorizon()) {
      int n = h.scores().model().n();
      h.coverage()
          .forEach(
              (level, share) -> {
                double[] c = pooled.computeIfAbsent(level, l -> new double[2]);
                c[0] += share * n;
                c[1] += n;
              });
    }
    ObjectNode allHorizons = root.putObject("coverageOverAllHorizons");
    pooled.forEach((level, c) -> allHorizons.put(level.toString(), c[0] / c[1]));
    ArrayNode intervals = root.putArray("intervals");
    o.spec()
        .intervals()
        .forEach(
            b ->
                intervals
                    .addObject()
                    .put("level", b.level())
                    .put("lower", b.lower())
                    .put("upper", b.upper()));
    root.put("testWindows", o.model().n());
    root.put("testWindowsOutsideFittedLevels", o.outsideFittedLevels());
    root.put("testFrom", o.testFrom().toString());
    root.put("testTo", o.testTo().toString());
    root.put("arch", o.spec().architecture().wireName());
    root.put("modelName", o.spec().name());
    ModelSpec s = o.spec();
    ObjectNode form = root.putObject("form");
    form.put("served", Selection.served(s));
    form.put("transform", s.targetTransform().wireName());
    form.put("inputTransform", s.inputTransform().wireName());
    form.put("dayOfYear", s.calendar());
    form.put("dayOfWeek", s.weekday());
    form.put("window", s.windowLength());
    form.put("hidden", s.hiddenSize());
    form.put("members", s.members());
    form.put("highway", s.highway());
    form.put("memberGate", s.trainingMetrics().getOrDefault("memberGate", Double.NaN));
    form.put("biasShift", s.trainingMetrics().getOrDefault("validationBiasShift", 0.0));
    if (o.selection() != null) {
      ObjectNode sel = root.putObject("selection");
      sel.set("chosen", json.valueToTree(o.selection().chosen()));
      sel.set("candidates", json.valueToTree(o.selection().candidates()));
      sel.put("seconds", o.selection().seconds());
      sel.put("budgetSeconds", o.selection().budgetSeconds());
      sel.put("referenceSeconds", o.selection().referenceSeconds());
      double t = o.selection().dickeyFuller();
      if (Double.isFinite(t)) {
        sel.put("dickeyFuller", t);
      } else {
        sel.putNull("dickeyFuller"); // too few readings, or fitted exactly
      }
      sel.put("levelMargin", o.selection().levelMargin());
      sel.put("persistenceStandardErrors", o.selection().persistenceStandardErrors());
      sel.put("superiorAbilityP", o.selection().superiorAbilityP());
      sel.put("finalTrainings", o.selection().finalTrainings());
    } else {
      root.putNull("selection");
    }
    ArrayNode folds = root.putArray("folds");
    for (TrainingRun.Fold f : o.folds()) {
      ObjectNode n = folds.addObject();
      n.put("fold", f.index());
      n.put("testFrom", f.testFrom().toString());
      n.put("testTo", f.testTo().toString());
      n.put("windows", f.scores().model().n());
      metrics(n.putObject("model"), f.scores().model());
      metrics(n.putObject("persistence"), f.scores().persistence());
      metrics(n.putObject("linear"), f.scores().linear());
      if (f.scores().seasonalNaive() != null) {
        metrics(n.putObject("seasonalNaive"), f.scores().seasonalNaive());
      }
    }
    root.put("decision", o.decision().name().toLowerCase(Locale.ROOT));
    if (o.decision() == TrainingRun.Decision.PUBLISHED) {
      root.put("version", o.version());
    }
    if (o.champion() != null) {
      ObjectNode c = root.putObject("champion");
      c.put("version", o.champion().version());
      c.put("mae", o.champion().championMae());
      c.put("challengerMae", o.champion().challengerMae());
      c.put("commonWindows", o.champion().commonWindows());
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    json.writeValue(file.toFile(), root);
  }

  private static ObjectNode metrics(ObjectNode node, Metrics m) {
    node.put("mae", m.mae());
    node.put("rmse", m.rmse());
    node.put("mape", m.mape());
    node.put("smape", m.smape());
    node.put("mase", m.mase());
    return node;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
