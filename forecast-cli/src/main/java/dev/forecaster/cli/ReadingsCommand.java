package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.csv.CsvReadSummary;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code forecast readings}: reads a CSV through a column mapping and shows what it gives. */
@Command(
    name = "readings",
    mixinStandardHelpOptions = true,
    description = {
      "Reads a daily CSV through a column mapping and prints what became readings and which rows"
          + " did not.",
      "Use it to check a mapping before replaying or training on a file."
    })
final class ReadingsCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CsvMappingOptions csv;

  @Option(
      names = "--show",
      paramLabel = "N",
      defaultValue = "3",
      description = "Print the first N readings (default: ${DEFAULT-VALUE}).")
  int show;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path file = csv.csv();
    List<Reading> first = new ArrayList<>();
    CsvReadSummary summary =
        csv.reader()
            .read(
                file,
                r -> {
                  if (first.size() < show) {
                    first.add(r);
                  }
                });
    SummaryTable.print(out, csv.mapping().toString(), summary);
    first.forEach(r -> out.println("  " + r));
    out.flush();
    return summary.badRows() == 0 ? 0 : 1;
  }
}
