package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForecastCommandTest {

  @TempDir Path dir;

  private final CliRun cli = new CliRun();

  @Test
  void readingsReadsAShippedDatasetThroughItsPreset() {
    int exit = cli.run("readings", "--preset", "stock", "--show", "1");

    assertThat(exit).isZero();
    assertThat(cli.out.toString())
        .contains("rows      5105 (5105 readings, 0 bad)")
        .contains("days      2000-01-03 .. 2020-04-17")
        .contains("series    SP500        5105 readings")
        .contains("\"seriesId\": \"SP500\"");
  }

  @Test
  void readingsMapsAnyDailyCsvAndReportsItsBadRowsWithFileAndLine() throws IOException {
    Path file = dir.resolve("station.csv");
    Files.write(
        file,
        List.of("DATE,TMAX,TMIN", "03/01/2021,5.5,1.0", "04/01/2021,x,0.5", "05/01/2021,6.0,2.0"));

    int exit =
        cli.run(
            "readings",
            "--csv",
            file.toString(),
            "--series-id",
            "KSEA",
            "--time-column",
            "DATE",
            "--date-format",
            "dd/MM/yyyy",
            "--features",
            "TMAX,TMIN",
            "--domain",
            "weather");

    assertThat(exit).as("a file with bad rows exits non-zero").isEqualTo(1);
    assertThat(cli.out.toString())
        .contains("rows      3 (2 readings, 1 bad)")
        .contains("days      2021-01-03 .. 2021-01-05")
        .contains("bad row   " + file + ":3: not a number in column 'TMAX': 'x'");
  }

  @Test
  void failOnBadRowStopsWithTheRowsPlace() throws IOException {
    Path file = dir.resolve("prices.csv");
    Files.write(file, List.of("day,close", "2021-01-04,10", "2021-01-05,", "2021-01-06,11"));

    int exit =
        cli.run(
            "readings",
            "--csv",
            file.toString(),
            "--series-id",
            "X",
            "--time-column",
            "day",
            "--features",
            "close",
            "--on-bad-row",
            "fail");

    assertThat(exit).isNotZero();
    assertThat(cli.err.toString()).contains(file + ":3: empty value in column 'close'");
  }

  @Test
  void contradictoryFlagsAreAUsageErrorThatNamesTheFix() {
    int exit =
        cli.run(
            "readings", "--preset", "weather", "--series-column", "location", "--series-id", "X");

    assertThat(exit).isEqualTo(2);
    assertThat(cli.err.toString()).contains("give --series-column or --series-id, not both");
  }
}
