package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.TrainingPreset;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code forecast demo}: the whole system on this machine, on real data, ending in a report.
 * Without {@code --csv} it runs both shipped datasets; with it, that file through the mapping
 * flags.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs the whole system on this machine, on 127.0.0.1 only: starts a Kafka broker, replays the"
          + " history of the shipped datasets (or --csv), trains and publishes a model per dataset,"
          + " starts the Flink job, feeds the held-out days as live data while showing live"
          + " accuracy, and writes an HTML report.",
      "Everything it started is stopped and removed at the end, also on Ctrl-C."
    })
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec commandSpec;

  @Option(
      names = "--quick",
      description = "Fewer live days and smaller models: done in about a minute on 2 cores.")
  boolean quick;

  @Option(
      names = "--horizons",
      paramLabel = "H",
      defaultValue = "3",
      description =
          "Readings ahead each model forecasts from every window, one network each (default:"
              + " ${DEFAULT-VALUE}; the presets' own, 7 and 5, train too long for a demo).")
  int horizons;

  @Option(
      names = "--live-days",
      paramLabel = "N",
      description = "Readings per series held out and fed live (default: 60, quick: 20).")
  Integer liveDays;

  @Option(
      names = "--pace-ms",
      paramLabel = "MS",
      description = "Pause after each live day (default: 300, quick: 100).")
  Long paceMs;

  @Option(
      names = "--report",
      paramLabel = "PATH",
      defaultValue = "out/demo/report.html",
      description = "HTML report (default: ${DEFAULT-VALUE}).")
  Path report;

  @Option(
      names = "--summary-json",
      paramLabel = "PATH",
      description = "Also write the summary as JSON.")
  Path summaryJson;

  @Mixin CsvMappingOptions csv;

  @Option(
      names = "--target",
      paramLabel = "FEATURE",
      description = "With --csv: the feature to forecast.")
  String target;

  @Option(
      names = "--model-features",
      paramLabel = "A,B",
      split = ",",
      description = "With --csv: features the model reads (default: --features).")
  List<String> modelFeatures;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = commandSpec.commandLine().getOut();
    if (horizons < 1) {
      throw new ParameterException(
          commandSpec.commandLine(), "--horizons must be at least 1, got " + horizons);
    }
    List<DemoRun.Dataset> datasets = datasets();
    int live = liveDays != null ? liveDays : quick ? 20 : 60;
    long pace = paceMs != null ? paceMs : quick ? 100 : 300;
    ReportData outcome;
    try {
      outcome = new DemoRun(out, live, pace).run(datasets);
    } catch (CancellationException stopped) {
      return 130; // DemoRun said what it stopped
    }
    Report.writeHtml(report, outcome);
    if (summaryJson != null) {
      Report.writeSummary(summaryJson, outcome);
    }
    out.printf(
        "%nreadings %d, forecasts %d, evaluations %d, dead letters %d%n",
        outcome.readings(),
        outcome.forecasts().size(),
        outcome.evaluations().size(),
        outcome.deadLetters().size());
    out.println("report:   " + report.toAbsolutePath());
    if (summaryJson != null) {
      out.println("summary:  " + summaryJson.toAbsolutePath());
    }
    out.flush();
    return 0;
  }

  private List<DemoRun.Dataset> datasets() throws Exception {
    boolean custom =
        csv.preset() != null
            || csv.features() != null
            || commandSpec.commandLine().getParseResult().hasMatchedOption("--csv");
    if (custom) {
      Path file = csv.csv();
      List<Reading> readings = csv.reader().readAll(file);
      if (csv.preset() != null) {
        return List.of(dataset(file.getFileName().toString(), readings, csv.preset()));
      }
      // the job scores each reading with the model named as its domain: the model takes that name
      String domain = csv.mapping().domain();
      if (domain.isBlank() || target == null) {
        throw new ParameterException(
            commandSpec.commandLine(),
            "with --csv, name the readings' --domain (the model's name) and the --target to"
                + " forecast");
      }
      List<String> features =
          modelFeatures != null ? modelFeatures : csv.mapping().featureColumns();
      // no preset: the first version is the search's closed forms, the round searches its form
      return List.of(
          DemoRun.Dataset.of(
              file.getFileName().toString(),
              readings,
              List.of(
                  "--preset",
                  "none",
                  "--model-name",
                  domain,
                  "--target",
                  target,
                  "--model-features",
                  String.join(",", features),
                  "--members",
                  quick ? "2" : "5",
                  "--horizons",
                  Integer.toString(horizons),
                  "--epochs",
                  quick ? "40" : "200",
                  "--budget",
                  (quick ? QUICK_SEARCH_BUDGET : SEARCH_BUDGET).toSeconds() + "s")));
    }
    List<DemoRun.Dataset> datasets = new ArrayList<>();
    for (DatasetPreset p : DatasetPreset.values()) {
      List<Reading> readings =
          new CsvReadingReader(p.mapping(), BadRowPolicy.SKIP)
              .readAll(CsvMappingOptions.dataDir().resolve(p.shippedFile()));
      datasets.add(dataset(p.shippedFile(), readings, p.name().toLowerCase(Locale.ROOT)));
    }
    return datasets;
  }

  /** The round's search budget of a CSV without a preset. */
  static final Duration SEARCH_BUDGET = Duration.ofSeconds(45);

  static final Duration QUICK_SEARCH_BUDGET = Duration.ofSeconds(15);

  /**
   * Members per horizon the demo's round trains at most: the weather preset's ten, times three
   * horizons, took two of the demo's four minutes on 2 cores; four keep it within three.
   */
  static final int MAX_MEMBERS = 4;

  /**
   * The demo's model of a dataset, forecasting {@code --horizons} readings ahead: the preset's form
   * with at most {@link #MAX_MEMBERS} members per horizon; quick trains 2 for at most 40 epochs.
   */
  private DemoRun.Dataset dataset(String name, List<Reading> readings, String preset) {
    int members = quick ? 2 : Math.min(TrainingPreset.named(preset).spec().members(), MAX_MEMBERS);
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--preset",
                preset,
                "--horizons",
                Integer.toString(horizons),
                "--members",
                Integer.toString(members)));
    if (quick) {
      flags.addAll(List.of("--epochs", "40"));
    }
    return DemoRun.Dataset.of(name, readings, flags);
  }
}
