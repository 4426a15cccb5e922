package dev.forecaster.cli;

import dev.forecaster.schemas.csv.BadRow;
import dev.forecaster.schemas.csv.CsvReadSummary;
import java.io.PrintWriter;
import java.util.Map;

/** Prints a CSV read summary the same way wherever a command reads a file. */
final class SummaryTable {

  private static final int SHOWN_BAD_ROWS = 10;

  static void print(PrintWriter out, String mapping, CsvReadSummary s) {
    out.printf("%s%n  mapping   %s%n", s.file(), mapping);
    out.printf("  rows      %d (%d readings, %d bad)%n", s.rows(), s.readings(), s.badRows());
    out.printf("  days      %s .. %s%n", s.firstDay(), s.lastDay());
    for (Map.Entry<String, Long> series : s.readingsPerSeries().entrySet()) {
      out.printf("  series    %-12s %d readings%n", series.getKey(), series.getValue());
    }
    s.badRowExamples().stream()
        .limit(SHOWN_BAD_ROWS)
        .map(BadRow::toString)
        .forEach(b -> out.println("  bad row   " + b));
    if (s.badRows() > SHOWN_BAD_ROWS) {
      out.printf("  ... and %d more bad rows%n", s.badRows() - SHOWN_BAD_ROWS);
    }
  }

  private SummaryTable() {}
}
