package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.trainer.SeriesGenerator;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forecast generate}: daily series of a known kind as a CSV, to check the trainer on. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Writes daily series of a known kind as a CSV (date,series,value,aux), the same for the same"
          + " seed: random-walk, price (trading days), seasonal (weather-like), weekly"
          + " (demand-like), regime (a trend that breaks), gaps (seasonal with missing days).",
      "Train on one with: forecast train --csv FILE --series-column series --time-column date"
          + " --features value,aux --target value --no-publish"
    })
final class GenerateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--kind", paramLabel = "KIND", required = true, description = "What to generate.")
  String kind;

  @Option(
      names = "--series",
      paramLabel = "N",
      defaultValue = "1",
      description = "Series in the file (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--days",
      paramLabel = "N",
      defaultValue = "1500",
      description = "Calendar days per series, from 2016-01-01 (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--output", paramLabel = "PATH", required = true, description = "CSV to write.")
  Path output;

  @Override
  public Integer call() throws Exception {
    SeriesGenerator.Kind k;
    try {
      k = SeriesGenerator.Kind.named(kind);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (series < 1 || days < 30) {
      throw new ParameterException(spec.commandLine(), "--series ≥ 1 and --days ≥ 30");
    }
    List<Reading> readings = SeriesGenerator.generate(k, series, days, seed);
    Path parent = output.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer w = Files.newBufferedWriter(output);
        CSVPrinter csv =
            CSVFormat.DEFAULT
                .builder()
                .setHeader("date", "series", "value", "aux")
                .get()
                .print(w)) {
      for (Reading r : readings) {
        csv.printRecord(
            r.getDay(), r.getSeriesId(), r.getFeatures().get("value"), r.getFeatures().get("aux"));
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "%s: %d readings of %d %s series (%d days from %s, seed %d)%n",
        output, readings.size(), series, k.wireName(), days, SeriesGenerator.START, seed);
    out.flush();
    return 0;
  }
}
