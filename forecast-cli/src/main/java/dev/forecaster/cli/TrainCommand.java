package dev.forecaster.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.csv.CsvReadSummary;
import dev.forecaster.trainer.KafkaHistory;
import dev.forecaster.trainer.Metrics;
import dev.forecaster.trainer.ModelRegistry;
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
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
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
          + " beats persistence and the model in service (or with --force).",
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
    TrainingPreset defaults = defaults();
    ModelSpec template = template(defaults); // usage errors before any data is read
    History history = loadHistory(out);
    TrainingSettings settings = model.settings(defaults);
    ModelRegistry registry =
        noPublish ? null : new ModelRegistry(kafka.clientProperties(), modelsTopic);
    if (registry != null) {
      registry.ensureTopic(); // fails fast, naming the address, when no broker answers
    }
    int total = settings.epochs() * template.members();
    TrainingRun.Outcome outcome;
    try (ProgressBar bar = ProgressBars.of("training " + template.name(), total, " epochs")) {
      TrainingRun.Request request =
          new TrainingRun.Request(
              template,
              settings,
              model.testFrom(),
              registry,
              force,
              modelsDir,
              false,
              model.windowPolicy());
      outcome =
          new TrainingRun(Clock.systemUTC())
              .run(history, request, progress(bar, settings.epochs()));
    }
    report(out, outcome);
    if (metricsJson != null) {
      writeJson(metricsJson, outcome);
      out.println("metrics:  " + metricsJson);
    }
    if (chart != null) {
      BacktestChart.write(
          chart,
          outcome.spec().name() + " (" + outcome.spec().architecture().wireName() + ")",
          outcome.split().test(),
          outcome.predicted(),
          outcome.members());
      out.println("chart:    " + chart);
    }
    out.flush();
    return 0;
  }

  private History loadHistory(PrintWriter out) throws Exception {
    if (fromKafka) {
      KafkaHistory.Read read =
          KafkaHistory.read(kafka.clientProperties(), readingsTopic, Duration.ofSeconds(30));
      out.printf(
          "history:  %d readings of %d series from topic %s (%d records, %d undecodable skipped)%n",
          read.history().readings(),
          read.history().bySeries().size(),
          readingsTopic,
          read.records(),
          read.undecodable());
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

  private TrainingPreset defaults() {
    if (csv.preset() != null) {
      return TrainingPreset.named(csv.preset());
    }
    return "stock".equalsIgnoreCase(csv.domain()) ? TrainingPreset.STOCK : TrainingPreset.WEATHER;
  }

  private ModelSpec template(TrainingPreset d) {
    try {
      return model.template(d, csv.preset() != null, csv.features());
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /** Advances the bar by epochs; a member stopping early jumps it to the next member's start. */
  private static IntConsumer progress(ProgressBar bar, int epochsPerMember) {
    int[] member = {0};
    return epoch -> {
      if (epoch == 1 && bar.getCurrent() > 0) {
        member[0]++;
      }
      bar.stepTo((long) member[0] * epochsPerMember + epoch);
    };
  }

  private static void report(PrintWriter out, TrainingRun.Outcome o) {
    ModelSpec s = o.spec();
    out.printf(
        "model:    %s, %s, window %d, hidden %d, %d member(s), target %s (%s), inputs %s%n",
        s.name(),
        s.architecture().wireName(),
        s.windowLength(),
        s.hiddenSize(),
        s.members(),
        s.target(),
        s.targetTransform().wireName(),
        s.features());
    out.printf(
        "test:     %d windows, targets %s .. %s%n",
        o.model().n(), o.split().testFrom(), o.split().testTo());
    out.printf("%n  %-16s %10s %10s %8s%n", "", "MAE", "RMSE", "MAPE %");
    row(out, "model", o.model());
    row(out, "persistence", o.persistence());
    row(out, "linear (OLS)", o.linear());
    if (o.champion() != null) {
      out.printf(
          "  %-16s %10.4f   (challenger %.4f on the %d test windows both forecast)%n",
          "champion v" + o.champion().version(),
          o.champion().championMae(),
          o.champion().challengerMae(),
          o.champion().commonWindows());
    }
    out.printf("%ndecision: %s%n", o.explanation());
  }

  private static void row(PrintWriter out, String name, Metrics m) {
    out.printf("  %-16s %10.4f %10.4f %8.2f%n", name, m.mae(), m.rmse(), m.mape());
  }

  private static void writeJson(Path file, TrainingRun.Outcome o) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    metrics(root.putObject("model"), o.model());
    metrics(root.putObject("persistence"), o.persistence());
    metrics(root.putObject("linear"), o.linear());
    root.put("testWindows", o.model().n());
    root.put("testFrom", o.split().testFrom().toString());
    root.put("testTo", o.split().testTo().toString());
    root.put("arch", o.spec().architecture().wireName());
    root.put("modelName", o.spec().name());
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

  private static void metrics(ObjectNode node, Metrics m) {
    node.put("mae", m.mae());
    node.put("rmse", m.rmse());
    node.put("mape", m.mape());
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
